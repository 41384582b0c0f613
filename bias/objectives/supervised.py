"""Supervised classification on the scene labels: the discriminative baseline.

The head is timm's own linear classifier (build the backbone with ``num_classes`` = number of
classes), so the checkpoint holds backbone and head and loads as a plain timm classifier.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from bias.errors import VitbiasError
from bias.objectives.augment import ViewSpec
from bias.objectives.base import Batch, Objective, full_precision


@full_precision
def classification_loss(logits: Tensor, labels: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits (B, C) against labels (B,) int64, optionally label-smoothed."""
    return F.cross_entropy(logits, labels, label_smoothing=label_smoothing)


class Supervised(Objective):
    """Cross-entropy on the class labels of the ImageFolder."""

    name = "supervised"
    family = "discriminative"
    paradigm = "supervised"
    uses_labels = True

    def __init__(self, backbone: nn.Module, *, seed: int = 0, label_smoothing: float = 0.0,
                 min_scale: float = 0.35) -> None:
        super().__init__(backbone, seed=seed)
        if getattr(backbone, "num_classes", 0) < 2:
            raise VitbiasError("the supervised objective needs a backbone with a classifier "
                               "head (num_classes >= 2, i.e. at least two class folders)")
        self.label_smoothing = float(label_smoothing)
        self.views = ViewSpec("classify", 1, min_scale=min_scale)

    def forward(self, batch: Batch) -> Tensor:
        views, labels = batch
        return classification_loss(self.backbone(views[0]), labels, self.label_smoothing)

    def config(self) -> dict[str, float]:
        return {"label_smoothing": self.label_smoothing, "min_scale": self.views.min_scale}
