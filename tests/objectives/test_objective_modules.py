"""Every registered objective on a micro ViT: interface, a few optimisation steps, teachers."""

from __future__ import annotations

import pytest
import torch
from timm.models.vision_transformer import VisionTransformer

from bias.errors import VitbiasError
from bias.objectives import create_objective, list_objectives, objective_class
from bias.sizes import build_backbone

ALL = ["supervised", "simclr", "moco_v3", "dino", "mae", "simmim"]


def make(name: str, **kw):
    torch.manual_seed(0)
    backbone, _, _ = build_backbone("micro", num_classes=4 if name == "supervised" else 0)
    return create_objective(name, backbone, seed=0, **kw)


def fixed_batch(objective, n: int = 8):
    g = torch.Generator().manual_seed(1)
    count = objective.views.n_views + objective.views.n_local
    views = [torch.randn(n, 3, 32, 32, generator=g) for _ in range(count)]
    return views, torch.randint(0, 4, (n,), generator=g)


def optimise(objective, steps: int = 8, lr: float = 1e-3) -> list[float]:
    batch = fixed_batch(objective)
    opt = torch.optim.AdamW([p for p in objective.parameters() if p.requires_grad], lr=lr)
    losses = []
    for step in range(steps):
        loss = objective(batch)
        assert loss.shape == () and torch.isfinite(loss)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
        objective.momentum_update(step, steps)
    return losses


def test_registry_lists_every_objective_and_rejects_unknown_names():
    assert list_objectives() == ALL
    with pytest.raises(VitbiasError, match=r"unknown objective 'byol'.*simclr"):
        objective_class("byol")
    backbone, _, _ = build_backbone("micro")
    with pytest.raises(VitbiasError, match=r"no argument mask_ration.*mask_ratio"):
        create_objective("mae", backbone, mask_ration=0.5)
    with pytest.raises(VitbiasError, match="num_classes"):
        create_objective("supervised", backbone)  # headless backbone


@pytest.mark.parametrize("name", ALL)
def test_interface(name):
    obj = make(name)
    assert isinstance(obj.backbone, VisionTransformer)
    assert obj.family == ("generative" if name in ("mae", "simmim") else "discriminative")
    assert obj.views.n_views == (2 if name in ("simclr", "moco_v3", "dino") else 1)
    names = obj.no_weight_decay()
    assert any(n.endswith("pos_embed") for n in names)
    assert all(isinstance(v, int | float | bool) for v in obj.config().values())
    # The backbone's parameters are trained (in the optimizer's view), teachers are not.
    trainable = {id(p) for p in obj.parameters() if p.requires_grad}
    assert all(id(p) in trainable for p in obj.backbone.parameters())


@pytest.mark.parametrize("name", ["supervised", "simclr", "moco_v3", "mae", "simmim"])
def test_loss_decreases_on_a_fixed_batch(name):
    losses = optimise(make(name))
    assert min(losses[-3:]) < losses[0]


def test_dino_student_learns_against_a_frozen_teacher_and_centre():
    # momentum 1 and centre momentum 1 freeze the targets, so the loss must fall.
    losses = optimise(make("dino", momentum=1.0, center_momentum=1.0))
    assert min(losses[-3:]) < losses[0]


@pytest.mark.parametrize("name", ["dino", "moco_v3"])
def test_momentum_teacher_is_an_ema_of_the_student(name):
    obj = make(name)
    teacher = obj.backbone_teacher if name == "dino" else obj.backbone_momentum
    before = [p.detach().clone() for p in teacher.parameters()]
    losses = optimise(obj, steps=3)
    assert len(set(losses)) > 1
    student = [p.detach().clone() for p in obj.backbone.parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(before, teacher.parameters(), strict=True))
    # One more update by hand: teacher' = m * teacher + (1 - m) * student at m = base momentum.
    now = [p.detach().clone() for p in teacher.parameters()]
    obj.momentum_update(0, 10)
    m = obj.momentum
    for t0, s, t1 in zip(now, student, teacher.parameters(), strict=True):
        assert torch.allclose(t1, m * t0 + (1 - m) * s, atol=1e-6)
    # At the end of the schedule m = 1: the teacher no longer moves.
    frozen = [p.detach().clone() for p in teacher.parameters()]
    obj.momentum_update(9, 10)
    assert all(torch.equal(a, b) for a, b in zip(frozen, teacher.parameters(), strict=True))
    if name == "dino":
        assert obj.center.abs().sum() > 0  # the centre followed the teacher outputs


@pytest.mark.parametrize("name", ["mae", "simmim"])
def test_masks_follow_the_generator(name):
    obj = make(name)
    batch = fixed_batch(obj)
    obj.generator.manual_seed(5)
    a = obj(batch)
    obj.generator.manual_seed(5)
    assert obj(batch).item() == a.item()
    assert obj(batch).item() != a.item()  # the generator moved on: new masks


def test_a_flat_loss_curve_is_flagged_and_a_falling_one_is_not():
    obj = make("simclr")
    assert obj.learning_warnings([5.0, 4.0, 3.5]) == []
    assert obj.learning_warnings([5.0]) == []  # one epoch: nothing to compare
    (warning,) = obj.learning_warnings([5.0, 5.1, 5.05])  # 1 % under its peak: flat
    assert "did not fall" in warning and "highest 5.1000, last 5.0500" in warning
    assert obj.learning_warnings([3.3, 5.5, 3.2]) == []  # rose, then fell (DINO's shape)


def test_dino_flags_uniform_collapse_at_log_k():
    obj = make("dino", output_dim=256)  # log K = 5.545
    falling_but_flat = [6.0, 5.3]  # fell 12 %, yet 5.3 > 0.9 log K: flat teacher outputs
    (warning,) = obj.learning_warnings(falling_but_flat)
    assert "uniform collapse" in warning and "5.5452" in warning
    assert obj.learning_warnings([5.2, 4.15]) == []  # the measured escape (teacher_temp 0.02)
