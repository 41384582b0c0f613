"""The masked-encoder wiring shared by the masked-modelling objectives (MAE, SimMIM).

lightly's ``MaskedVisionTransformerTIMM`` wraps the timm ViT so that an objective can drop
(MAE) or replace with a mask token (SimMIM) chosen patch tokens. It is created with
``weight_initialization="skip"`` and ``pos_embed_initialization="skip"`` so that every
objective starts from the same seeded timm initialisation: objectives then differ only in
what they optimise.
"""

from __future__ import annotations

from lightly.models.modules import MaskedVisionTransformerTIMM
from torch import nn

from bias.objectives.base import Objective


def wrap_masked(backbone: nn.Module) -> MaskedVisionTransformerTIMM:
    """lightly's masked-token view of a timm ViT that keeps the ViT's own initialisation."""
    return MaskedVisionTransformerTIMM(vit=backbone, weight_initialization="skip",
                                       pos_embed_initialization="skip")


class MaskedObjective(Objective):
    """An objective whose backbone is reached through the masked encoder ``self.encoder``."""

    family = "generative"
    paradigm = "masked-modelling"

    def attach_backbone(self, backbone: nn.Module) -> None:
        self.encoder = wrap_masked(backbone)

    @property
    def backbone(self) -> nn.Module:
        return self.encoder.vit
