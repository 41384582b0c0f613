"""The pure losses on random tensors, against independent float64 loop formulas."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from bias.objectives.dino import dino_loss
from bias.objectives.mae import mae_loss
from bias.objectives.moco_v3 import moco_v3_loss
from bias.objectives.simclr import nt_xent
from bias.objectives.simmim import simmim_loss
from bias.objectives.supervised import classification_loss


def _lse(values: list[torch.Tensor]) -> torch.Tensor:
    m = max(v.item() for v in values)
    return m + torch.log(sum(torch.exp(v - m) for v in values))


def ref_nt_xent(z1: torch.Tensor, z2: torch.Tensor, t: float) -> float:
    z = F.normalize(torch.cat([z1, z2]).double(), dim=1)
    n2 = z.shape[0]
    total = 0.0
    for i in range(n2):
        pos = (i + n2 // 2) % n2
        others = [z[i] @ z[k] / t for k in range(n2) if k != i]
        total += (-(z[i] @ z[pos]) / t + _lse(others)).item()
    return total / n2


def ref_moco(q: torch.Tensor, k: torch.Tensor, t: float, offset: int = 0) -> float:
    q, k = F.normalize(q.double(), dim=1), F.normalize(k.double(), dim=1)
    terms = [(-(q[i] @ k[i + offset]) / t + _lse([q[i] @ k[j] / t for j in range(len(k))]))
             .item() for i in range(len(q))]
    return sum(terms) / len(q) * 2 * t


def ref_dino(s: torch.Tensor, t: torch.Tensor, center: torch.Tensor, st: float,
             tt: float) -> float:
    s, t, center = s.double(), t.double(), center.double()
    total, pairs = 0.0, 0
    for a in range(t.shape[0]):
        for b in range(s.shape[0]):
            if a == b:
                continue
            for i in range(t.shape[1]):
                p = torch.softmax((t[a, i] - center.flatten()) / tt, dim=0)
                logq = torch.log_softmax(s[b, i] / st, dim=0)
                total += -(p * logq).sum().item()
            pairs += 1
    return total / (pairs * t.shape[1])


def ref_masked(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, power: int) -> float:
    vals = [((pred[b, j] - target[b, j]).double().abs() ** power).mean().item()
            for b in range(pred.shape[0]) for j in range(pred.shape[1]) if mask[b, j]]
    return sum(vals) / len(vals)


@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_nt_xent_matches_loop_formula(temperature):
    g = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(6, 16, generator=g), torch.randn(6, 16, generator=g)
    got = nt_xent(z1, z2, temperature)
    assert got.shape == () and torch.isfinite(got)
    assert got.item() == pytest.approx(ref_nt_xent(z1, z2, temperature), rel=1e-5)
    assert nt_xent(z2, z1, temperature).item() == pytest.approx(got.item(), rel=1e-5)


def test_nt_xent_known_value_identical_orthogonal_views():
    # Views equal and all images orthogonal: positive cos 1, 2B-2 negatives at cos 0.
    z = torch.eye(4)
    t = 0.5
    expected = -1 / t + math.log(math.exp(1 / t) + 6)
    assert nt_xent(z, z.clone(), t).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("offset", [0, 3])
def test_moco_v3_loss_matches_loop_formula(offset):
    g = torch.Generator().manual_seed(2)
    q = torch.randn(3, 8, generator=g)
    k = torch.randn(3 + offset, 8, generator=g)
    got = moco_v3_loss(q, k, 0.2, offset=offset)
    assert got.item() == pytest.approx(ref_moco(q, k, 0.2, offset), rel=1e-5)


def test_dino_loss_matches_loop_and_lightly():
    from lightly.loss import DINOLoss

    g = torch.Generator().manual_seed(3)
    student = torch.randn(4, 5, 32, generator=g)  # 2 global + 2 local crops
    teacher = torch.randn(2, 5, 32, generator=g)
    center = torch.randn(1, 1, 32, generator=g) * 0.1
    got = dino_loss(student, teacher, center, 0.1, 0.04)
    assert got.item() == pytest.approx(ref_dino(student, teacher, center, 0.1, 0.04), rel=1e-5)
    lightly_loss = DINOLoss(output_dim=32, warmup_teacher_temp=0.04, teacher_temp=0.04,
                            student_temp=0.1)
    lightly_loss.center.copy_(center)
    want = lightly_loss(teacher_out=list(teacher), student_out=list(student))
    assert got.item() == pytest.approx(want.item(), rel=1e-5)


def test_dino_loss_uniform_logits_is_log_k():
    assert dino_loss(torch.zeros(3, 4, 50), torch.zeros(2, 4, 50),
                     torch.zeros(1, 1, 50)).item() == pytest.approx(math.log(50), rel=1e-6)


@pytest.mark.parametrize(("loss", "power"), [(mae_loss, 2), (simmim_loss, 1)])
def test_masked_pixel_losses_match_loop(loss, power):
    g = torch.Generator().manual_seed(4)
    pred, target = torch.randn(3, 10, 12, generator=g), torch.randn(3, 10, 12, generator=g)
    mask = torch.rand(3, 10, generator=g) < 0.6
    got = loss(pred, target, mask)
    assert got.item() == pytest.approx(ref_masked(pred, target, mask, power), rel=1e-5)
    # Only masked patches count: changing a visible patch's prediction changes nothing.
    pred2 = pred.clone()
    pred2[~mask] += 100.0
    assert loss(pred2, target, mask).item() == pytest.approx(got.item(), rel=1e-6)
    # Known value: a constant error c on every masked pixel gives c^power.
    assert loss(target + 0.3, target, mask).item() == pytest.approx(0.3 ** power, rel=1e-5)


def test_classification_loss_matches_log_softmax():
    g = torch.Generator().manual_seed(5)
    logits, labels = torch.randn(7, 4, generator=g), torch.randint(0, 4, (7,), generator=g)
    want = -torch.log_softmax(logits.double(), 1)[torch.arange(7), labels].mean()
    assert classification_loss(logits, labels).item() == pytest.approx(want.item(), rel=1e-6)


@pytest.mark.parametrize("name", ["nt_xent", "moco", "dino", "mae", "simmim", "ce"])
def test_each_loss_decreases_under_gradient_descent(name):
    g = torch.Generator().manual_seed(6)
    a = torch.randn(8, 16, generator=g).requires_grad_()
    b = torch.randn(8, 16, generator=g)
    target = torch.randn(8, 16, generator=g)
    mask = torch.rand(8, 16, generator=g) < 0.5
    labels = torch.randint(0, 16, (8,), generator=g)
    fns = {
        "nt_xent": lambda: nt_xent(a, b, 0.5),
        "moco": lambda: moco_v3_loss(a, b, 0.2),
        "dino": lambda: dino_loss(torch.stack([a, a * 0.5]), torch.stack([b, target]),
                                  torch.zeros(1, 1, 16)),
        "mae": lambda: mae_loss(a.view(8, 4, 4), target.view(8, 4, 4), mask[:, :4]),
        "simmim": lambda: simmim_loss(a.view(8, 4, 4), target.view(8, 4, 4), mask[:, :4]),
        "ce": lambda: classification_loss(a, labels),
    }
    opt = torch.optim.Adam([a], lr=0.05)
    losses = []
    for _ in range(15):
        loss = fns[name]()
        assert torch.isfinite(loss)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert losses[-1] < losses[0] * 0.9
