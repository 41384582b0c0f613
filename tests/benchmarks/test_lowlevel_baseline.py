"""benchmarks/lowlevel_baseline.py: the world's tests on features computed without a model."""

from pathlib import Path

import numpy as np
from PIL import Image


def write_world(root: Path) -> None:
    """Targets and attributes as vertical or horizontal bars (random grey levels): the
    planted test pairs them by orientation, the null test does not."""
    rng = np.random.default_rng(0)
    sets = {"t/x": True, "t/y": False, "v/a": True, "v/b": False, "n/c": True, "n/d": True}
    for concept, vertical in sets.items():
        (root / "stimuli" / concept).mkdir(parents=True)
        for i in range(5):
            arr = np.full((32, 32, 3), 255, np.uint8)
            on = (np.arange(32) + i) % 8 < 4
            ink = int(rng.integers(0, 120))
            if vertical:
                arr[:, on] = ink
            else:
                arr[on, :] = ink
            Image.fromarray(arr).save(root / "stimuli" / concept / f"{i}.png")
    (root / "catalog.yaml").write_text(
        "version: 1\ntests:\n"
        "  - {name: Planted, x: t/x, y: t/y, a: v/a, b: v/b, planted_beta: 0.8}\n"
        "  - {name: Unrelated, x: t/x, y: t/y, a: n/c, b: n/d, planted_beta: 0.0}\n")


def test_section_reads_the_biased_worlds_stimuli(baseline, tmp_path):
    write_world(tmp_path / "worlds" / "biased")
    cfg = {"worlds": {"control": {"biases": {"valence": 0.0}},
                      "biased": {"biases": {"valence": 0.8}}}}
    frame = baseline.lowlevel_results(tmp_path / "worlds" / "biased", permutations=500)
    assert set(frame["feature"]) == {"pixels", "colour", "hog", "orientations"}
    d = frame.set_index(["test", "feature"])["d"]
    # orientation alone links x to a: the largest d 5 vs 5 allows, up to rounding
    assert d["Planted", "orientations"] > 1.7
    # c and d are both vertical bars: their orientation histograms are equal, every image's
    # association score is 0 and d is undefined, not an effect
    assert np.isnan(d["Unrelated", "orientations"])
    text = baseline.section(tmp_path, cfg)
    assert "world `biased`" in text
    row = next(line for line in text.splitlines() if line.startswith("| Planted"))
    assert "0.800" in row and f"{d['Planted', 'orientations']:.3f}" in row
