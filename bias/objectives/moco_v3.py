"""MoCo v3 (Chen, Xie & He 2021): a query encoder with a predictor against a momentum key
encoder, symmetric InfoNCE over the batch, for ViTs.

Heads are lightly's: a 3-layer projection MLP with batch norm (``MoCoProjectionHead`` in its
v3 configuration) and a 2-layer prediction MLP (``BYOLPredictionHead``, the same shape as MoCo
v3's). The momentum follows a cosine schedule from ``momentum`` to 1 (lightly's
``cosine_schedule`` and ``update_momentum``). The contrastive loss is written here because
lightly's ``NTXentLoss`` is the SimCLR/MoCo v2 form, not v3's query-vs-keys form.
Not implemented: v3's frozen random patch projection (a stability trick for long runs).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from lightly.models.modules import BYOLPredictionHead, MoCoProjectionHead
from lightly.models.utils import deactivate_requires_grad, update_momentum
from lightly.utils import dist
from lightly.utils.scheduler import cosine_schedule
from torch import Tensor, nn

from bias.objectives.augment import ViewSpec
from bias.objectives.base import Batch, Objective, embed, full_precision


@full_precision
def moco_v3_loss(q: Tensor, k: Tensor, temperature: float = 0.2, offset: int = 0) -> Tensor:
    """InfoNCE of queries q (B, K) against keys k (N, K) -> scalar, scaled by 2·temperature.

    Query i's positive is key ``offset + i`` (keys gathered from every GPU: N = world · B,
    offset = rank · B); all other keys are negatives. Similarities are cosines.
    """
    q = F.normalize(q, dim=1)
    k = F.normalize(k, dim=1)
    logits = q @ k.T / temperature
    labels = torch.arange(q.shape[0], device=q.device) + offset
    return F.cross_entropy(logits, labels) * (2 * temperature)


def _gather(k: Tensor) -> Tensor:
    """Keys from every process (no gradient flows to keys anyway)."""
    return torch.cat(dist.gather(k), dim=0) if dist.world_size() > 1 else k


class MoCoV3(Objective):
    """Query: backbone -> projector -> predictor; key: EMA backbone -> EMA projector."""

    name = "moco_v3"
    family = "discriminative"
    paradigm = "joint-embedding"

    def __init__(self, backbone: nn.Module, *, seed: int = 0, temperature: float = 0.2,
                 momentum: float = 0.99, hidden_dim: int = 512, output_dim: int = 128,
                 min_scale: float = 0.2, solarize: float = 0.2) -> None:
        super().__init__(backbone, seed=seed)
        self.temperature, self.momentum = float(temperature), float(momentum)
        self.projection = MoCoProjectionHead(backbone.num_features, hidden_dim, output_dim,
                                             num_layers=3, batch_norm=True)
        self.prediction = BYOLPredictionHead(output_dim, hidden_dim, output_dim)
        self.backbone_momentum = copy.deepcopy(backbone)
        self.projection_momentum = copy.deepcopy(self.projection)
        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_momentum)
        self.views = ViewSpec("asymmetric", 2, min_scale=min_scale, solarize=float(solarize))
        self._dims = (hidden_dim, output_dim)

    def _query(self, x: Tensor) -> Tensor:
        return self.prediction(self.projection(embed(self.backbone, x)))

    @torch.no_grad()
    def _key(self, x: Tensor) -> Tensor:
        return _gather(self.projection_momentum(embed(self.backbone_momentum, x)))

    def forward(self, batch: Batch) -> Tensor:
        views, _ = batch
        x1, x2 = views[:2]
        q1, q2 = self._query(x1), self._query(x2)
        k1, k2 = self._key(x1), self._key(x2)
        t, offset = self.temperature, dist.rank() * x1.shape[0]
        return moco_v3_loss(q1, k2, t, offset) + moco_v3_loss(q2, k1, t, offset)

    @torch.no_grad()
    def momentum_update(self, step: int, total: int) -> None:
        m = cosine_schedule(step, total, self.momentum, 1.0)
        update_momentum(self.backbone, self.backbone_momentum, m)
        update_momentum(self.projection, self.projection_momentum, m)

    def config(self) -> dict[str, float]:
        return {"temperature": self.temperature, "momentum": self.momentum,
                "hidden_dim": self._dims[0], "output_dim": self._dims[1],
                "min_scale": self.views.min_scale, "solarize": self.views.solarize}
