"""SimCLR (Chen et al. 2020): two augmented views, NT-Xent over the batch.

The loss is lightly's ``NTXentLoss`` (it also gathers negatives across GPUs under DDP);
the projection head is lightly's SimCLR MLP (2 layers, batch norm).
"""

from __future__ import annotations

from lightly.loss import NTXentLoss
from lightly.models.modules import SimCLRProjectionHead
from torch import Tensor, nn

from bias.objectives.augment import ViewSpec
from bias.objectives.base import Batch, Objective, embed, full_precision, world_size


@full_precision
def nt_xent(z1: Tensor, z2: Tensor, temperature: float = 0.5,
            gather_distributed: bool = False) -> Tensor:
    """NT-Xent of two views' projections z1, z2 (B, K) -> scalar.

    For each of the 2B embeddings the positive is the other view of the same image and the
    negatives are the other 2B - 2 embeddings, with cosine similarity / temperature; the loss
    is the mean cross-entropy over all 2B anchors.
    """
    return NTXentLoss(temperature=temperature, gather_distributed=gather_distributed)(z1, z2)


class SimCLR(Objective):
    """Backbone -> projection MLP -> NT-Xent between two SimCLR views."""

    name = "simclr"
    family = "discriminative"
    paradigm = "contrastive"

    def __init__(self, backbone: nn.Module, *, seed: int = 0, temperature: float = 0.5,
                 hidden_dim: int = 512, output_dim: int = 128, min_scale: float = 0.2) -> None:
        super().__init__(backbone, seed=seed)
        self.temperature = float(temperature)
        self.projection = SimCLRProjectionHead(backbone.num_features, hidden_dim, output_dim)
        self.views = ViewSpec("contrastive", 2, min_scale=min_scale)
        self._dims = (hidden_dim, output_dim)

    def forward(self, batch: Batch) -> Tensor:
        views, _ = batch
        z1, z2 = (self.projection(embed(self.backbone, v)) for v in views[:2])
        return nt_xent(z1, z2, self.temperature, gather_distributed=world_size() > 1)

    def config(self) -> dict[str, float]:
        return {"temperature": self.temperature, "hidden_dim": self._dims[0],
                "output_dim": self._dims[1], "min_scale": self.views.min_scale}
