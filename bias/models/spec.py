"""Model specs and the registry of model sources.

A spec is one string, used alike by the CLI and the workflow config::

    timm:<name>                     timm's own pretrained weights (hub or local cache)
    timm:<name>@<file>              local weights (.safetensors, .pth, .pt, .bin)
    open_clip:<arch>@<file|tag|dir> image tower of an open_clip model
    ckpt:<dir>                      a vitbias checkpoint folder

The part before the first ``:`` picks a *source* from :data:`SOURCES` (timm ``create_model``
style: an unknown prefix is an error that lists the known ones). The rest is split on the
first ``@`` into a name and a location.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias.errors import VitbiasError

if TYPE_CHECKING:
    from bias.models.loaded import LoadedModel

SPEC_FORMS = ("timm:<name>", "timm:<name>@<file>", "open_clip:<arch>@<file|tag|dir>",
              "ckpt:<dir>", "and for embed/audit lowlevel[:<features>], no model")

Loader = Callable[["ModelSpec", dict[str, Any]], "LoadedModel"]
SOURCES: dict[str, Loader] = {}


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec: ``source:name@location`` (location is ``None`` when absent)."""

    text: str
    source: str
    name: str
    location: str | None

    @property
    def path(self) -> Path | None:
        """The location as a path (``~`` expanded), or None."""
        return Path(self.location).expanduser() if self.location else None


def register_source(prefix: str) -> Callable[[Loader], Loader]:
    """Decorator: register ``fn(spec, kwargs) -> LoadedModel`` under ``prefix``."""

    def wrap(fn: Loader) -> Loader:
        SOURCES[prefix] = fn
        return fn

    return wrap


def parse_spec(text: str) -> ModelSpec:
    """Split a spec string; an unknown source or an empty name is a :class:`VitbiasError`."""
    source, sep, rest = text.partition(":")
    if not sep or source not in SOURCES:
        raise VitbiasError(
            f"unknown model source {source!r} in model spec {text!r}; known sources: "
            f"{', '.join(sorted(SOURCES))} (forms: {', '.join(SPEC_FORMS)})")
    if source == "ckpt":  # a folder path: '@' may be part of it
        name, location = rest, rest
    else:
        name, _, location = rest.partition("@")
    if not name or (source == "open_clip" and not location):
        raise VitbiasError(f"model spec {text!r} is incomplete; forms: {', '.join(SPEC_FORMS)}")
    return ModelSpec(text=text, source=source, name=name, location=location or None)


def load_model(spec: str, **model_kwargs: Any) -> LoadedModel:
    """Load the image model that ``spec`` names, in eval mode on the CPU.

    ``model_kwargs`` go to the model constructor (``timm.create_model`` for timm and ckpt
    sources), e.g. ``img_size=32`` for a model trained at another resolution.
    """
    parsed = parse_spec(spec)
    return SOURCES[parsed.source](parsed, dict(model_kwargs))
