"""The DiffEdit algorithm on synthetic eps models with known answers and on a tiny random UNet."""

from __future__ import annotations

import math

import pytest
import torch

from bias.editing.diffedit import (
    DiffEditParams,
    ddim_invert,
    ddim_masked_decode,
    ddim_schedulers,
    diffedit,
    diffedit_mask,
)
from bias.errors import VitbiasError

LINEAR = {"num_train_timesteps": 1000, "beta_schedule": "linear", "beta_start": 1e-4,
          "beta_end": 0.02, "prediction_type": "epsilon"}


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def gens(*seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def alphas_bar() -> torch.Tensor:
    """Cumulative alphas of the linear schedule, computed here, not by diffusers."""
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, dim=0)


def gaussian_eps(s: float):
    """The exact eps-predictor for data x0 ~ N(0, s^2 I): E[eps | x_t] =
    sqrt(1 - ab) x_t / (ab s^2 + 1 - ab). Its DDIM ODE keeps x_t / sqrt(ab s^2 + 1 - ab)
    constant, so inversion has a closed form."""
    ab = alphas_bar()

    def eps(x, t, cond):
        a = float(ab[t])
        return math.sqrt(1 - a) * x / (a * s * s + 1 - a)
    return eps


def test_ddim_inversion_matches_closed_form_and_reconstructs():
    s, n = 0.5, 200
    x0 = s * torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0),
                         dtype=torch.float64)
    eps = gaussian_eps(s)
    sampler, inverse = ddim_schedulers(LINEAR, n)
    inverted = ddim_invert(eps, x0, None, inverse, n)
    t_last = int(inverse.timesteps[n - 1])
    a = float(alphas_bar()[t_last])
    expected = x0 * math.sqrt(a * s * s + 1 - a) / s
    assert len(inverted) == n + 1 and torch.equal(inverted[0], x0)
    assert torch.allclose(inverted[-1], expected, rtol=5e-3, atol=1e-4)
    # With the mask everywhere, decoding is plain DDIM: it must come back to the input.
    recon = ddim_masked_decode(eps, inverted, torch.ones(2, 1, 8, 8, dtype=x0.dtype), None,
                               None, sampler, 1.0)
    # DDIM inversion is first order (eps taken one level early): 200 steps leave ~1.5%.
    assert (recon - x0).abs().max() < 3e-2 * x0.abs().max()


def test_inversion_gets_more_exact_with_more_steps():
    s = 0.5
    x0 = s * torch.randn(1, 3, 4, 4, generator=torch.Generator().manual_seed(1),
                         dtype=torch.float64)
    errors = []
    for n in (10, 100):
        sampler, inverse = ddim_schedulers(LINEAR, n)
        inv = ddim_invert(gaussian_eps(s), x0, None, inverse, n)
        rec = ddim_masked_decode(gaussian_eps(s), inv, torch.ones_like(x0[:, :1]), None, None,
                                 sampler, 1.0)
        errors.append(float((rec - x0).abs().max()))
    assert errors[1] < errors[0] / 3


def patch_eps(x, t, cond):
    """Predictions differ between conditions only where ``cond`` (B, C, H, W) is non-zero."""
    return 0.1 * x + cond


def test_mask_finds_where_conditions_disagree_and_edit_keeps_the_rest():
    x0 = rand(2, 3, 16, 16)
    source = torch.zeros_like(x0)
    target = torch.zeros_like(x0)
    target[:, :, 4:9, 6:12] = 1.0  # 30 of 256 pixels: below the clamp at 3x the mean
    params = DiffEditParams(num_steps=10, mask_draws=2)
    sampler, _ = ddim_schedulers(LINEAR, params.num_steps)
    mask, soft = diffedit_mask(patch_eps, x0, source, target, torch.zeros_like(x0), sampler,
                               params, gens(0, 1))
    expected = torch.zeros(2, 1, 16, 16)
    expected[:, :, 4:9, 6:12] = 1.0
    assert torch.equal(mask, expected)
    assert soft.min() >= 0 and soft.max() <= 1
    res = diffedit(patch_eps, x0, source, target, torch.zeros_like(x0), LINEAR, params,
                   gens(0, 1))
    outside = expected.expand_as(x0) == 0
    assert torch.equal(res.edited[outside], x0[outside])
    assert (res.edited[~outside] - x0[~outside]).abs().mean() > 0.05


def test_identical_conditions_give_an_empty_mask():
    x0 = rand(1, 3, 8, 8)
    cond = torch.zeros_like(x0)
    sampler, _ = ddim_schedulers(LINEAR, 5)
    mask, soft = diffedit_mask(patch_eps, x0, cond, cond, cond, sampler, DiffEditParams(),
                               gens(0))
    assert mask.sum() == 0 and soft.sum() == 0


@pytest.fixture(scope="module")
def tiny_unet():
    from diffusers import UNet2DModel

    torch.manual_seed(0)
    return UNet2DModel(sample_size=8, in_channels=3, out_channels=3, block_out_channels=(8, 16),
                       layers_per_block=1, down_block_types=("DownBlock2D",) * 2,
                       up_block_types=("UpBlock2D",) * 2, num_class_embeds=5,
                       norm_num_groups=4).eval()


def unet_eps(unet):
    return lambda x, t, cond: unet(x, t, class_labels=cond).sample


def run_unet(unet, x0, seeds, mask=None, **kw):
    params = DiffEditParams(num_steps=6, mask_draws=2, **kw)
    n = x0.shape[0]
    return diffedit(unet_eps(unet), x0, torch.zeros(n, dtype=torch.long),
                    torch.ones(n, dtype=torch.long), torch.full((n,), 4), LINEAR, params,
                    gens(*seeds), mask=mask)


def test_tiny_unet_shapes_mask_range_and_determinism(tiny_unet):
    x0 = rand(3, 3, 8, 8, seed=1)
    a = run_unet(tiny_unet, x0, [1, 2, 3])
    b = run_unet(tiny_unet, x0, [1, 2, 3])
    c = run_unet(tiny_unet, x0, [7, 2, 3])
    assert a.edited.shape == x0.shape and a.mask.shape == (3, 1, 8, 8)
    assert set(a.mask.unique().tolist()) <= {0.0, 1.0}
    assert a.soft_mask.min() >= 0 and a.soft_mask.max() <= 1
    assert torch.equal(a.edited, b.edited) and torch.equal(a.mask, b.mask)
    assert not torch.equal(a.soft_mask[0], c.soft_mask[0])  # another seed, other noise draws
    assert torch.equal(a.soft_mask[1:], c.soft_mask[1:])    # ... for that item only


def test_tiny_unet_all_zero_mask_returns_the_input(tiny_unet):
    x0 = rand(2, 3, 8, 8, seed=2)
    res = run_unet(tiny_unet, x0, [0, 1], mask=torch.zeros(2, 1, 8, 8))
    assert torch.equal(res.edited, x0)


def test_item_result_does_not_depend_on_its_batch(tiny_unet):
    x0 = rand(3, 3, 8, 8, seed=3)
    batch = run_unet(tiny_unet, x0, [5, 6, 7])
    alone = run_unet(tiny_unet, x0[1:2], [6])
    assert torch.equal(batch.mask[1:2], alone.mask)
    assert torch.allclose(batch.edited[1:2], alone.edited, atol=1e-4)  # batched conv rounding


def test_bad_parameters_are_named():
    with pytest.raises(VitbiasError, match="encode_ratio"):
        DiffEditParams(encode_ratio=1.5)
    with pytest.raises(VitbiasError, match="unknown DiffEdit parameter"):
        DiffEditParams.from_kwargs(strength=0.3)
    with pytest.raises(VitbiasError, match="num_steps"):
        ddim_schedulers(LINEAR, 5000)


def test_gaussian_blur_matches_scipy():
    from scipy.ndimage import gaussian_filter

    from bias.editing.diffedit import gaussian_blur

    maps = torch.rand(2, 9, 11, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    for sigma in (0.7, 1.5):
        ours = gaussian_blur(maps, sigma)
        for i in range(2):
            ref = gaussian_filter(maps[i].numpy(), sigma, mode="mirror", truncate=2.0)
            assert torch.allclose(ours[i], torch.from_numpy(ref), atol=1e-12)


def test_blur_removes_isolated_cells_and_dilation_grows_the_mask():
    x0 = rand(1, 3, 16, 16, seed=5)
    target = torch.zeros_like(x0)
    target[:, :, 4:10, 4:10] = 1.0  # a patch: kept
    target[:, :, 13, 13] = 1.0      # one isolated cell: noise, removed by the blur
    sampler, _ = ddim_schedulers(LINEAR, 5)
    zero = torch.zeros_like(x0)
    plain, _ = diffedit_mask(patch_eps, x0, zero, target, zero, sampler,
                             DiffEditParams(mask_draws=1), gens(0))
    blurred, _ = diffedit_mask(patch_eps, x0, zero, target, zero, sampler,
                               DiffEditParams(mask_draws=1, mask_blur=1.0), gens(0))
    grown, _ = diffedit_mask(patch_eps, x0, zero, target, zero, sampler,
                             DiffEditParams(mask_draws=1, mask_blur=1.0, mask_dilate=1), gens(0))
    assert plain[0, 0, 13, 13] == 1 and blurred[0, 0, 13, 13] == 0
    assert blurred[0, 0, 5:9, 5:9].all()
    expected = torch.nn.functional.max_pool2d(blurred, 3, stride=1, padding=1)
    assert torch.equal(grown, expected) and grown.sum() > blurred.sum()
