"""MAE (He et al. 2022): encode only the visible patches, reconstruct the masked ones' pixels
with a light transformer decoder. Generative.

lightly provides the masked encoder wrapper around the timm ViT (see
:mod:`bias.objectives.masked`) and the decoder blocks (``MaskedVisionTransformerDecoderTIMM``:
mask token, fixed 2-D sin-cos positions).
"""

from __future__ import annotations

import torch
from lightly.models.modules.masked_vision_transformer_decoder_timm import (
    MaskedVisionTransformerDecoderTIMM,
)
from lightly.models.utils import set_at_index
from torch import Tensor, nn

from bias.objectives.augment import ViewSpec
from bias.objectives.base import Batch, full_precision
from bias.objectives.masked import MaskedObjective
from bias.objectives.masking import masked_mean, patch_targets, random_patch_mask


@full_precision
def mae_loss(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error per patch, averaged over masked patches -> scalar.

    pred, target: (B, L, P) pixels per patch; mask: (B, L), true where the patch was hidden.
    """
    return masked_mean((pred - target).pow(2).mean(dim=-1), mask)


class MAE(MaskedObjective):
    """Random masking (default 75 %), encoder on visible patches, decoder on all tokens."""

    name = "mae"

    def __init__(self, backbone: nn.Module, *, seed: int = 0, mask_ratio: float = 0.75,
                 decoder_dim: int = 128, decoder_depth: int = 2, decoder_heads: int = 4,
                 norm_pix: bool = True, min_scale: float = 0.2) -> None:
        super().__init__(backbone, seed=seed)
        vit = self.backbone
        self.patch_size = int(vit.patch_embed.patch_size[0])
        self.num_patches = int(vit.patch_embed.num_patches)
        self.prefix = int(vit.num_prefix_tokens)
        self.mask_ratio, self.norm_pix = float(mask_ratio), bool(norm_pix)
        self.decoder_embed = nn.Linear(vit.num_features, decoder_dim)
        self.decoder = MaskedVisionTransformerDecoderTIMM(
            num_patches=self.num_patches, embed_dim=decoder_dim, depth=decoder_depth,
            num_heads=decoder_heads, num_prefix_tokens=self.prefix)
        self.decoder_pred = nn.Linear(decoder_dim, self.patch_size ** 2 * vit.patch_embed.proj
                                      .in_channels)
        self.views = ViewSpec("masked", 1, min_scale=min_scale)
        self._dims = (decoder_dim, decoder_depth, decoder_heads)

    def attach_backbone(self, backbone: nn.Module) -> None:
        super().attach_backbone(backbone)
        # MAE drops masked patches instead of replacing them: the encoder mask token is unused.
        self.encoder.mask_token.requires_grad_(False)

    def forward(self, batch: Batch) -> Tensor:
        views, _ = batch
        x = views[0]
        b, device = x.shape[0], x.device
        idx_keep, idx_mask = (i.to(device) + self.prefix for i in
                              random_patch_mask(b, self.num_patches, self.mask_ratio,
                                                self.generator))
        prefix = torch.arange(self.prefix, device=device).expand(b, -1)
        keep = torch.cat([prefix, idx_keep], dim=1)  # (B, prefix + K) token indices
        z = self.decoder_embed(self.encoder.encode(x, idx_keep=keep))  # (B, prefix + K, Dd)
        tokens = z.new_zeros(b, self.prefix + self.num_patches, z.shape[-1])
        tokens = set_at_index(tokens, keep, z)
        decoded = self.decoder(tokens, idx_mask=idx_mask)  # mask token at hidden positions
        pred = self.decoder_pred(decoded[:, self.prefix:])  # (B, L, P)
        mask = torch.zeros(b, self.num_patches, dtype=torch.bool, device=device)
        mask.scatter_(1, idx_mask - self.prefix, True)
        return mae_loss(pred, patch_targets(x, self.patch_size, self.norm_pix), mask)

    def config(self) -> dict[str, float]:
        dim, depth, heads = self._dims
        return {"mask_ratio": self.mask_ratio, "decoder_dim": dim, "decoder_depth": depth,
                "decoder_heads": heads, "norm_pix": self.norm_pix,
                "min_scale": self.views.min_scale}
