"""What every model source returns: the image network, its preprocessing and its identity."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

FAMILIES = ("timm", "open_clip")


@dataclass
class LoadedModel:
    """An image model ready to embed stimuli.

    - ``module``: the image network in eval mode, on the CPU: a timm ViT (``family='timm'``)
      or an open_clip image tower ``model.visual`` (``family='open_clip'``);
    - ``transform``: PIL RGB image -> float32 tensor (3, H, W), the model's own preprocessing;
    - ``preprocessing``: that preprocessing as a JSON-able dict (recorded with embeddings);
    - ``weights_sha256``: hash of the module's state dict (names, dtypes, shapes, bytes);
    - ``identity``: what, besides the weights, defines the network (arch, constructor
      kwargs): part of the embedding cache key;
    - ``meta``: vitbias checkpoint metadata (objective, size, data, seed, ...) or ``{}``.
    """

    spec: str
    source: str
    family: str
    arch: str
    module: nn.Module
    transform: Callable[[Any], torch.Tensor]
    preprocessing: dict[str, Any]
    weights_sha256: str
    identity: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def provenance(self) -> dict[str, Any]:
        """The model part of an embedding table's provenance."""
        return {"model_spec": self.spec, "model_source": self.source, "model_family": self.family,
                "arch": self.arch, "weights_sha256": self.weights_sha256,
                "preprocessing": self.preprocessing, "model_identity": self.identity}


def state_dict_sha256(module: nn.Module) -> str:
    """SHA-256 over the state dict: every tensor's name, dtype, shape and raw bytes.

    Hashing the loaded tensors (not a file) gives one identity for the same network however it
    was stored or adapted (e.g. a dropped classifier head), and works for hub downloads too.
    """
    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        # A uint8 view reads the bytes of any dtype (bf16 has no numpy equivalent).
        h.update(t.reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()
