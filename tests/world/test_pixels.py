"""Calibration before learning: raw pixels must not carry the planted associations.

The stimuli are rendered alone, independently of beta, so the same check covers the beta = 0
and beta = 0.8 worlds. Embedding each stimulus as its flattened pixels, no catalog test may
show a systematic association: averaged over seeds, |d| stays small. (Per seed, d on raw
pixels scatters around 0 with spread ~0.2-0.4; a confound, e.g. objects of one valence drawn
in colours closer to one skin tone, shows up as d of the same sign on every seed.) Both
palettes are checked, with valence shown by objects and by wall lines (whose valence stimuli
are empty walls). The plain palette has too few colours to average pixel coincidences away:
its per-seed d scatters more (mean |d| up to ~0.8 on the career tests, where grey persons
meet grey textured walls), so its scatter bound is looser; the systematic part stays small.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ieat_effect_size

from bias.world import render_scene, stimulus_scenes, world_catalog
from bias.world.stimulus_sets import Style

SEEDS = (0, 1, 2, 3)
N_STIMULI = 24
SCATTER_BOUND = {"varied": 0.5, "plain": 1.0}  # bound on the seed-mean |d|


@pytest.fixture(scope="module", params=[("varied", "object"), ("plain", "object"),
                                        ("varied", "wall"), ("plain", "wall")])
def pixel_d(request: pytest.FixtureRequest) -> tuple[str, dict[str, list[float]]]:
    palette, cue = request.param
    style = Style(palette=palette, valence_cue=cue)
    tests = world_catalog()["tests"]
    out: dict[str, list[float]] = {t["name"]: [] for t in tests}
    for seed in SEEDS:
        emb: dict[str, list[np.ndarray]] = {}
        for category, concept, _, params in stimulus_scenes(N_STIMULI, seed, 32, style):
            pixels = np.asarray(render_scene(params), np.float64).ravel() / 255
            emb.setdefault(f"{category}/{concept}", []).append(pixels)
        for t in tests:
            x, y, a, b = (np.stack(emb[t[k]]) for k in "xyab")
            out[t["name"]].append(ieat_effect_size(x, y, a, b))
    return palette, out


def test_no_systematic_pixel_level_association(
        pixel_d: tuple[str, dict[str, list[float]]]) -> None:
    palette, ds_by_test = pixel_d
    for name, ds in ds_by_test.items():
        assert np.mean(np.abs(ds)) < SCATTER_BOUND[palette], (name, np.round(ds, 2))
        assert abs(np.mean(ds)) < 0.35, (name, np.round(ds, 2))


def test_null_pair_is_flat_in_pixel_space(pixel_d: tuple[str, dict[str, list[float]]]) -> None:
    palette, ds_by_test = pixel_d
    bound = 0.2 if palette == "varied" else 0.3
    for name in ("Null-Valence", "Null-Career"):
        assert np.mean(np.abs(ds_by_test[name])) < bound, (name, ds_by_test[name])


def test_effect_size_helper_against_a_constructed_case() -> None:
    """The d used above is right: X on A's side, Y on B's side gives d = +sqrt(2)-ish > 1.5."""
    rng = np.random.default_rng(0)
    e1, e2 = np.eye(8)[0], np.eye(8)[1]
    a, b = e1 + 0.01 * rng.normal(size=(5, 8)), e2 + 0.01 * rng.normal(size=(5, 8))
    x = e1 + 0.5 * rng.normal(size=(6, 8))
    y = e2 + 0.5 * rng.normal(size=(6, 8))
    assert ieat_effect_size(x, y, a, b) > 1.5
    assert ieat_effect_size(y, x, a, b) == pytest.approx(-ieat_effect_size(x, y, a, b))
    assert abs(ieat_effect_size(x, x.copy(), a, b)) < 1e-12
