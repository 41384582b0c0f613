"""The common interface of training objectives.

An objective is an ``nn.Module`` that owns a timm ``VisionTransformer`` (``.backbone`` — the
only part saved in the vitbias checkpoint) plus its own heads (projectors, predictors,
decoders, momentum teachers). The training loop knows nothing else about it:

- ``forward(batch) -> loss`` (a scalar), ``batch = (views, labels)`` with ``views`` a list of
  (B, 3, S, S) tensors (as many as ``views`` asks for) and ``labels`` (B,) int64;
- ``views``: the :class:`~bias.objectives.augment.ViewSpec` its data loader must produce;
- ``momentum_update(step, total)``: called after every optimizer step (EMA teachers);
- ``generator``: a CPU ``torch.Generator`` for the objective's own random choices (masks);
  the training loop reseeds it at every epoch from (seed, epoch, rank), so runs repeat and
  resume exactly.

Class attributes say what the objective is: ``family`` is ``generative`` (pixel
reconstruction) or ``discriminative`` (labels or instance discrimination), as Brinkmann et al.
group them; ``paradigm`` is the finer kind.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import torch
from torch import Tensor, nn

from bias.objectives.augment import ViewSpec

Batch = tuple[list[Tensor], Tensor]

# Parameters that are embeddings or tokens, not weights: AdamW must not decay them.
NO_DECAY_SUFFIXES = ("pos_embed", "cls_token", "reg_token", "dist_token", "mask_token")
MIN_LOSS_DROP = 0.02  # a run whose last loss is within 2 % of its highest is flagged


class Objective(nn.Module):
    """Base class: stores the backbone and the generator; subclasses add heads and a loss."""

    name: ClassVar[str]
    family: ClassVar[str]  # "generative" | "discriminative"
    paradigm: ClassVar[str]  # "supervised" | "contrastive" | "joint-embedding" | "masked-modelling"
    uses_labels: ClassVar[bool] = False
    views: ViewSpec

    def __init__(self, backbone: nn.Module, *, seed: int = 0) -> None:
        super().__init__()
        self.generator = torch.Generator().manual_seed(int(seed))
        self.attach_backbone(backbone)

    def attach_backbone(self, backbone: nn.Module) -> None:
        """Register the timm ViT; masked-modelling objectives wrap it instead."""
        self.backbone = backbone

    def forward(self, batch: Batch) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def momentum_update(self, step: int, total: int) -> None:
        """EMA update of momentum teachers after optimizer step ``step`` of ``total``."""

    def no_weight_decay(self) -> set[str]:
        """Parameter names AdamW leaves undecayed (timm's optimizer factory asks for these)."""
        return {n for n, _ in self.named_parameters() if n.endswith(NO_DECAY_SUFFIXES)}

    def config(self) -> dict[str, Any]:
        """The objective's hyper-parameters, recorded in model.json (JSON-safe)."""
        return {}

    def learning_warnings(self, curve: list[float]) -> list[str]:
        """Signs in the per-epoch loss ``curve`` that the model learned nothing.

        Why it matters here: an untrained model shows no association, and an audit would
        read that as "unbiased". Recorded in model.json (``warnings``) and logged.
        """
        # Against the highest epoch, not the first: DINO's loss rises before it falls.
        peak = max(curve, default=0.0)
        if len(curve) >= 2 and curve[-1] > (1 - MIN_LOSS_DROP) * peak:
            return [f"{self.name}: the loss did not fall (highest {peak:.4f}, last "
                    f"{curve[-1]:.4f}, over {len(curve)} epochs); the model may have learned "
                    "nothing, so an audit of it cannot tell bias from no training (train "
                    "longer or raise --lr)"]
        return []


LossFn = TypeVar("LossFn", bound=Callable[..., Tensor])


def full_precision(loss: LossFn) -> LossFn:
    """Run a loss in float32 even inside bf16 autocast (``--amp``): its tensor arguments are
    cast to float and autocast is off, so logits sharpened by small temperatures (DINO's
    0.04) and softmax normalisers keep their precision; the backbone stays in bf16."""

    @functools.wraps(loss)
    def wrapper(*args: Any, **kwargs: Any) -> Tensor:
        device = next((a.device.type for a in args if isinstance(a, Tensor)), "cpu")
        args = tuple(a.float() if isinstance(a, Tensor) and a.is_floating_point() else a
                     for a in args)
        with torch.autocast(device, enabled=False):
            return loss(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def embed(backbone: nn.Module, images: Tensor) -> Tensor:
    """(B, 3, S, S) -> (B, D): the ViT's pre-logits feature (the class token by default)."""
    return backbone.forward_head(backbone.forward_features(images), pre_logits=True)


def world_size() -> int:
    """Processes in the distributed group (1 when not distributed)."""
    dist = torch.distributed
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
