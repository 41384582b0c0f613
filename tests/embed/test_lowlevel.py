"""The low-level baseline (``lowlevel[:features]``): features with known values, and the
association tests on them through ``vitbias audit``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from bias.cli import main
from bias.embed.lowlevel import colour, orientations, parse_lowlevel, pixels
from bias.embeddings import EmbeddingTable
from bias.errors import VitbiasError


def bars(vertical: bool, phase: int, size: int = 64, period: int = 8,
         ink: tuple[int, int, int] = (20, 20, 20)) -> Image.Image:
    """White image with dark bars of width period / 2, vertical or horizontal."""
    arr = np.full((size, size, 3), 255, np.uint8)
    on = ((np.arange(size) + phase) % period) < period // 2
    if vertical:
        arr[:, on] = ink
    else:
        arr[on, :] = ink
    return Image.fromarray(arr)


def test_pixels_of_a_32px_image_are_its_values():
    arr = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    feat = pixels(Image.fromarray(arr))
    assert feat.shape == (3072,)
    np.testing.assert_allclose(feat, arr.reshape(-1) / 255.0, atol=1e-7)


def test_colour_histogram_of_a_solid_image_is_one_bin():
    feat = colour(Image.new("RGB", (20, 10), (200, 40, 130)))
    expected = np.zeros(512, np.float32)
    expected[(200 // 32) * 64 + (40 // 32) * 8 + 130 // 32] = 1.0
    np.testing.assert_array_equal(feat, expected)


def test_orientation_histograms_tell_bar_directions_apart():
    # Vertical bars have horizontal gradients (bin 0, 0-20 degrees), horizontal bars
    # vertical ones (bin 4, 80-100 degrees); the phase of the bars does not matter.
    for phase in (0, 3):
        vert, horiz = orientations(bars(True, phase)), orientations(bars(False, phase))
        assert vert.shape == horiz.shape == (9,)
        assert int(np.argmax(vert)) == 0 and int(np.argmax(horiz)) == 4
        assert vert[0] > 0.9 and horiz[4] > 0.9


@pytest.mark.parametrize("spec, names", [
    ("lowlevel", ["pixels", "colour", "hog", "orientations"]),
    ("lowlevel:hog", ["hog"]),
    ("lowlevel:hog, pixels,hog", ["hog", "pixels"]),
])
def test_parse_lowlevel(spec, names):
    assert parse_lowlevel(spec) == names


def test_unknown_feature_is_named():
    with pytest.raises(VitbiasError, match=r"'edges'.*lowlevel:edges.*known: pixels"):
        parse_lowlevel("lowlevel:edges")


def write_bar_stimuli(root, n=5):
    """Targets x/y and attributes a/b: vertical vs horizontal bars in different inks and
    phases, so that only the orientation links x to a and y to b."""
    inks = [(20, 20, 20), (200, 30, 30), (30, 30, 200), (30, 160, 30), (120, 60, 160)]
    for concept, vertical, shift in (("t/x", True, 0), ("t/y", False, 0), ("v/a", True, 1),
                                     ("v/b", False, 1)):
        folder = root / concept
        folder.mkdir(parents=True)
        for i in range(n):
            bars(vertical, i + shift, ink=inks[(i + 2 * shift) % 5]).save(folder / f"{i}.png")


def test_audit_on_lowlevel_finds_the_orientation_link(tmp_path):
    write_bar_stimuli(tmp_path / "stim")
    (tmp_path / "catalog.yaml").write_text(
        "version: 1\ntests:\n  - {name: XY-AB, x: t/x, y: t/y, a: v/a, b: v/b}\n")
    out = tmp_path / "audit"
    assert main(["audit", "--model", "lowlevel:orientations,colour", "--stimuli",
                 str(tmp_path / "stim"), "--catalog", str(tmp_path / "catalog.yaml"),
                 "--permutations", "500", "--bootstrap", "40", "--out", str(out)]) == 0
    df = pd.read_csv(out / "results.csv").set_index("pooling")
    assert sorted(df.index) == ["colour", "orientations"] and (df["layer"] == 0).all()
    assert (df["objective"] == "lowlevel").all()
    # Orientation separates the sets perfectly: the largest d 5-vs-5 allows, exact p 1/252.
    assert df.loc["orientations", "effect_size"] > 1.7
    assert df.loc["orientations", "p_value"] == pytest.approx(1 / 252)
    # Every set holds the same five inks in the same amounts: every image's colour score is
    # the same, so d is undefined (and the report says so instead of failing).
    assert np.isnan(df.loc["colour", "effect_size"])
    assert "d undefined for every test" in (out / "report.html").read_text()
    table = EmbeddingTable.load(out / "embeddings.npz")
    assert sorted(table.keys) == [("colour", 0), ("orientations", 0)]
    assert table.image_ids[0] == "t/x/0.png"


def test_corrupt_stimulus_is_named_and_leaves_no_output(tmp_path, capsys):
    write_bar_stimuli(tmp_path / "stim", n=2)
    (tmp_path / "stim" / "v/b/1.png").write_bytes(b"not a png")
    (tmp_path / "catalog.yaml").write_text(
        "version: 1\ntests:\n  - {name: XY-AB, x: t/x, y: t/y, a: v/a, b: v/b}\n")
    out = tmp_path / "audit"
    args = ["audit", "--model", "lowlevel:pixels", "--stimuli", str(tmp_path / "stim"),
            "--catalog", str(tmp_path / "catalog.yaml"), "--permutations", "100",
            "--bootstrap", "0", "--out", str(out)]
    assert main(args) == 2
    assert "v/b/1.png" in capsys.readouterr().err
    assert not out.exists()
