"""Embeddings of stimulus images: every layer and pooling in one forward pass, cached.

>>> from bias.models import load_model
>>> from bias.embed import EmbedOptions, embed_stimuli
>>> from bias.stimuli import scan_stimuli
>>> table = embed_stimuli(load_model("ckpt:models/vit_s"), scan_stimuli("stimuli"),
...                       EmbedOptions(layers="all", poolings="cls,mean"))  # doctest: +SKIP
"""

from bias.embed.cache import EmbeddingCache, cache_key, default_cache_dir
from bias.embed.extract import POOLINGS, extract_batch, model_depth, num_prefix_tokens
from bias.embed.images import load_rgb, to_rgb
from bias.embed.options import parse_layers, parse_poolings, resolve_device
from bias.embed.pipeline import EmbedOptions, embed_spec, embed_stimuli

__all__ = ["POOLINGS", "EmbedOptions", "EmbeddingCache", "cache_key", "default_cache_dir",
           "embed_spec", "embed_stimuli", "extract_batch", "load_rgb", "model_depth",
           "num_prefix_tokens", "parse_layers", "parse_poolings", "resolve_device", "to_rgb"]
