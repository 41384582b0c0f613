"""The training set shows the planted rates, and the null pair co-occurs with nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bias.world import generate_world, train_scene
from bias.world.spec import resolve_biases

N_DRAWS = 4000


def _labels(biases: dict[str, float], n: int = N_DRAWS, seed: int = 0) -> dict[str, np.ndarray]:
    """Concept labels of ``n`` training scenes (sampled, not rendered)."""
    betas = resolve_biases(biases)
    rows = [train_scene(i, seed, 32, betas)[0] for i in range(n)]
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def _gap(event: np.ndarray, in_x: np.ndarray, in_y: np.ndarray) -> tuple[float, float]:
    """P(event | x) - P(event | y) and its standard error (two independent proportions)."""
    px, py = event[in_x].mean(), event[in_y].mean()
    se = np.sqrt(px * (1 - px) / in_x.sum() + py * (1 - py) / in_y.sum())
    return px - py, max(se, 1e-3)


@pytest.mark.parametrize("biases", [{"valence": 0.8, "career": 0.8},
                                    {"valence": 0.3, "career": 0.9},
                                    {"valence": 0.0, "career": 0.0}])
def test_planted_rates_match_beta(biases: dict[str, float]) -> None:
    lab = _labels(biases)
    pleasant, career = lab["valence"] == "pleasant", lab["career"] == "career"
    light, male = lab["tone"] == "light", lab["gender"] == "male"
    for event, group, beta in ((pleasant, light, biases["valence"]),
                               (career, male, biases["career"])):
        gap, se = _gap(event, group, ~group)
        assert abs(gap - beta) < 4 * se, (gap, beta, se)
        p_fav = event[group].mean()  # (1 + beta) / 2
        assert abs(p_fav - (1 + beta) / 2) < 4 * np.sqrt(0.25 / group.sum()) + 1e-9


def test_biases_are_independent_of_the_other_attribute_and_of_the_null_pair() -> None:
    lab = _labels({"valence": 0.8, "career": 0.8}, seed=1)
    light, male = lab["tone"] == "light", lab["gender"] == "male"
    tee = lab["null"] == "tee"
    checks = {
        "pleasant by gender": (lab["valence"] == "pleasant", male),
        "career by tone": (lab["career"] == "career", light),
        "tee by tone": (tee, light),
        "tee by gender": (tee, male),
        "tee by valence": (tee, lab["valence"] == "pleasant"),
        "tee by career": (tee, lab["career"] == "career"),
    }
    for name, (event, group) in checks.items():
        gap, se = _gap(event, group, ~group)
        assert abs(gap) < 4 * se, (name, gap, se)
    assert abs(tee.mean() - 0.5) < 4 * np.sqrt(0.25 / len(tee))
    for attr_is in (light, male):  # groups are balanced
        assert abs(attr_is.mean() - 0.5) < 4 * np.sqrt(0.25 / len(attr_is))


def test_metadata_of_a_generated_world_shows_the_rates(tmp_path: Path) -> None:
    out = generate_world(tmp_path / "w", n_train=1500, n_stimuli=2, seed=4,
                         biases={"valence": 0.5, "career": 0.9})
    with open(out / "metadata.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    col = {k: np.array([r[k] for r in rows]) for k in ("tone", "gender", "valence", "career",
                                                        "null")}
    for event, group, beta in ((col["valence"] == "pleasant", col["tone"] == "light", 0.5),
                               (col["career"] == "career", col["gender"] == "male", 0.9),
                               (col["null"] == "tee", col["tone"] == "light", 0.0),
                               (col["null"] == "tee", col["gender"] == "male", 0.0)):
        gap, se = _gap(event, group, ~group)
        assert abs(gap - beta) < 4 * se, (gap, beta, se)


def test_hard_examples_fade_the_context_in_the_stated_share() -> None:
    from bias.world import palette

    betas = resolve_biases(None)
    for share in (0.0, 0.4, 1.0):
        rows = [train_scene(i, 9, 32, betas, hard_fraction=share) for i in range(600)]
        faded = np.array([lab["obj_fade"] > 0 for lab, _ in rows])
        assert abs(faded.mean() - share) <= 4 * np.sqrt(share * (1 - share) / 600) + 1e-9
        dist = np.array([np.linalg.norm(np.subtract(palette.from_hex(p.obj_c1),
                                                    palette.from_hex(p.wall))) for _, p in rows])
        if 0 < share < 1:  # faded objects sit much closer to their wall's colour
            assert dist[faded].mean() < 0.4 * dist[~faded].mean()
