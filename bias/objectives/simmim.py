"""SimMIM (Xie et al. 2022): replace masked patches by a learned mask token, encode every
token, predict the masked patches' raw pixels with a linear decoder, L1 loss. Generative.

The masked encoder is lightly's ``MaskedVisionTransformerTIMM`` (its ``mask`` argument puts the
mask token in); the decoder is one linear layer per patch token, the equivalent of SimMIM's
1×1 convolution + pixel shuffle. Masks hide random ``mask_block``×``mask_block`` groups of
patches (SimMIM's 32 px mask patches on a 16 px-patch ViT are 2×2 groups).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bias.objectives.augment import ViewSpec
from bias.objectives.base import Batch, full_precision
from bias.objectives.masked import MaskedObjective
from bias.objectives.masking import block_patch_mask, masked_mean, patch_targets


@full_precision
def simmim_loss(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean absolute error per patch, averaged over masked patches -> scalar.

    pred, target: (B, L, P) pixels per patch; mask: (B, L), true where the patch was hidden.
    """
    return masked_mean((pred - target).abs().mean(dim=-1), mask)


class SimMIM(MaskedObjective):
    """Block masking (default 60 %), mask token in the encoder, linear pixel decoder."""

    name = "simmim"

    def __init__(self, backbone: nn.Module, *, seed: int = 0, mask_ratio: float = 0.6,
                 mask_block: int | None = None, norm_pix: bool = False,
                 min_scale: float = 0.67) -> None:
        super().__init__(backbone, seed=seed)
        vit = self.backbone
        self.patch_size = int(vit.patch_embed.patch_size[0])
        self.grid = int(vit.patch_embed.grid_size[0])
        self.prefix = int(vit.num_prefix_tokens)
        self.mask_block = int(mask_block or (2 if self.grid % 2 == 0 else 1))
        self.mask_ratio, self.norm_pix = float(mask_ratio), bool(norm_pix)
        self.decoder = nn.Linear(vit.num_features,
                                 self.patch_size ** 2 * vit.patch_embed.proj.in_channels)
        nn.init.trunc_normal_(self.encoder.mask_token, std=0.02)
        self.views = ViewSpec("masked", 1, min_scale=min_scale)

    def forward(self, batch: Batch) -> Tensor:
        views, _ = batch
        x = views[0]
        b = x.shape[0]
        mask = block_patch_mask(b, self.grid, self.mask_ratio, self.mask_block,
                                self.generator).to(x.device)  # (B, L)
        prefix = torch.zeros(b, self.prefix, dtype=torch.bool, device=x.device)
        tokens = self.encoder.encode(x, mask=torch.cat([prefix, mask], dim=1))
        pred = self.decoder(tokens[:, self.prefix:])  # (B, L, P)
        return simmim_loss(pred, patch_targets(x, self.patch_size, self.norm_pix), mask)

    def config(self) -> dict[str, float]:
        return {"mask_ratio": self.mask_ratio, "mask_block": self.mask_block,
                "norm_pix": self.norm_pix, "min_scale": self.views.min_scale}
