"""Loading Vision Transformers by spec string (timm, open_clip, vitbias checkpoints).

>>> from bias.models import load_model
>>> model = load_model("timm:vit_small_patch16_224@weights.safetensors")  # doctest: +SKIP

Importing this package registers the built-in sources; timm and open_clip themselves are
imported only when a model of theirs is loaded.
"""

from bias.models import ckpt_source, open_clip_source, timm_source  # noqa: F401  (register)
from bias.models.loaded import LoadedModel, state_dict_sha256
from bias.models.safe_load import check_weights_file
from bias.models.spec import SOURCES, ModelSpec, load_model, parse_spec, register_source

__all__ = ["SOURCES", "LoadedModel", "ModelSpec", "check_weights_file", "load_model",
           "parse_spec", "register_source", "state_dict_sha256"]
