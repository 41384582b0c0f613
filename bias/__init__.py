"""vitbias: audit Vision Transformers for social bias.

The import package is ``bias``; the distribution and the command are ``vitbias``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vitbias")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
