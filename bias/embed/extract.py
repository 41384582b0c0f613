"""Every requested layer and pooling of a batch from ONE forward pass.

Layer ``i`` (0..depth-1) is the output of block ``i``. As in the iGPT code of the iEAT and in
Brinkmann et al., the model's final layer norm is applied to every block's tokens before
pooling, so that all layers live on the scale the head sees. Poolings:

- ``cls``: the first prefix token (the class token);
- ``mean``: the mean of the patch tokens (prefix tokens — class, distillation, registers —
  excluded);
- ``prelogits``: the model's own pre-logits feature (timm ``forward_head(pre_logits=True)``;
  open_clip: the image tower's output embedding), stored at layer ``depth - 1``.

Both timm ViTs and open_clip image towers expose ``forward_intermediates``, which runs the
blocks once and returns the selected blocks' tokens; one call per batch gives every key.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import torch
from torch import nn

from bias.embeddings import Key
from bias.errors import VitbiasError
from bias.models.loaded import LoadedModel

POOLINGS = ("cls", "mean", "prelogits")


def model_depth(model: LoadedModel) -> int:
    """Number of transformer blocks."""
    blocks = _blocks(model)
    if blocks is None:
        raise VitbiasError(f"{model.spec}: {type(model.module).__name__} has no transformer "
                           f"blocks; only Vision Transformers are supported")
    return len(blocks)


def num_prefix_tokens(model: LoadedModel) -> int:
    """Prefix tokens (class, distillation, registers) before the patch tokens."""
    m = model.module
    if model.family == "open_clip":
        trunk = getattr(m, "trunk", None)
        return int(getattr(trunk, "num_prefix_tokens", 0)) if trunk is not None else 1
    return int(getattr(m, "num_prefix_tokens", 0))


def token_norm(model: LoadedModel) -> str:
    """Name of the final norm applied to every block's tokens (recorded in provenance)."""
    m = model.module
    if model.family == "open_clip":
        trunk = getattr(m, "trunk", None)
        if trunk is None:
            return "ln_post"
        return "trunk.fc_norm" if _uses_fc_norm(trunk) else "trunk.norm"
    return "fc_norm" if _uses_fc_norm(m) else "norm"


def check_poolings(model: LoadedModel, poolings: Sequence[str]) -> None:
    """Refuse poolings the model cannot give, naming the model."""
    unknown = sorted(set(poolings) - set(POOLINGS))
    if unknown:
        raise VitbiasError(f"unknown pooling(s) {unknown}; known: {', '.join(POOLINGS)}")
    if "cls" in poolings and num_prefix_tokens(model) == 0:
        raise VitbiasError(f"{model.spec} has no class token; use --pooling mean,prelogits")
    if model.family == "open_clip" and getattr(model.module, "attn_pool", None) is not None:
        raise VitbiasError(f"{model.spec}: image towers with attentional pooling (CoCa) are "
                           f"not supported")


def extract_batch(model: LoadedModel, x: torch.Tensor, layers: Sequence[int],
                  poolings: Sequence[str]) -> dict[Key, torch.Tensor]:
    """Embeddings of a batch ``x`` (B, 3, H, W) at every (pooling, layer) key.

    ``layers`` are block indices 0..depth-1. Returns ``{(pooling, layer): (B, D) float32}``
    with ``prelogits`` only at layer ``depth - 1``.
    """
    layers = sorted(set(layers))
    need_final = "prelogits" in poolings
    if model.family == "open_clip":
        spatial, prefix, final = _open_clip_forward(model.module, x, layers, need_final)
    else:
        spatial, prefix, final = _timm_forward(model.module, x, layers, need_final)
    out: dict[Key, torch.Tensor] = {}
    for layer, tokens, pre in zip(layers, spatial, prefix, strict=True):
        if "cls" in poolings:
            out[("cls", layer)] = pre[:, 0].float()
        if "mean" in poolings:
            out[("mean", layer)] = tokens.float().mean(dim=1)
    if final is not None:
        out[("prelogits", model_depth(model) - 1)] = final.float()
    return out


def _timm_forward(m: nn.Module, x: torch.Tensor, layers: list[int], need_final: bool):
    """(patch tokens per layer, prefix tokens per layer, pre-logits or None)."""
    params = inspect.signature(m.forward_intermediates).parameters
    kwargs = {"indices": layers, "norm": True, "output_fmt": "NLC",
              "intermediates_only": not need_final, "stop_early": not need_final}
    if "return_prefix_tokens" in params:
        kwargs["return_prefix_tokens"] = True
    elif getattr(m, "num_prefix_tokens", 0):
        raise VitbiasError(f"{type(m).__name__}.forward_intermediates cannot return its prefix "
                           f"tokens separately; cls and mean pooling need them apart")
    out = m.forward_intermediates(x, **kwargs)
    final, inter = out if need_final else (None, out)
    spatial = [t[0] if isinstance(t, tuple) else t for t in inter]
    prefix = [t[1] if isinstance(t, tuple) else t[:, :0] for t in inter]
    if _uses_fc_norm(m):  # avg-pool models normalise with fc_norm; norm is the identity
        spatial = [m.fc_norm(t) for t in spatial]
        prefix = [m.fc_norm(t) for t in prefix]
    prelogits = m.forward_head(final, pre_logits=True) if need_final else None
    return spatial, prefix, prelogits


def _open_clip_forward(m: nn.Module, x: torch.Tensor, layers: list[int], need_final: bool):
    out = m.forward_intermediates(
        x, indices=layers, normalize_intermediates=True, intermediates_only=not need_final,
        stop_early=not need_final, output_fmt="NLC", output_extra_tokens=True)
    spatial = out["image_intermediates"]
    prefix = out.get("image_intermediates_prefix") or [t[:, :0] for t in spatial]
    trunk = getattr(m, "trunk", None)
    if trunk is not None and _uses_fc_norm(trunk):  # timm trunk with avg pooling
        spatial = [trunk.fc_norm(t) for t in spatial]
        prefix = [trunk.fc_norm(t) for t in prefix]
    return spatial, prefix, out.get("image_features")


def _uses_fc_norm(m: nn.Module) -> bool:
    return isinstance(getattr(m, "norm", None), nn.Identity) and not isinstance(
        getattr(m, "fc_norm", nn.Identity()), nn.Identity)


def _blocks(model: LoadedModel) -> nn.Module | None:
    m = model.module
    if model.family == "open_clip":
        trunk = getattr(m, "trunk", None)
        if trunk is not None:
            return getattr(trunk, "blocks", None)
        return getattr(getattr(m, "transformer", None), "resblocks", None)
    return getattr(m, "blocks", None)
