"""Every odd image kind becomes upright 8-bit RGB; unreadable files are errors naming them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bias.embed.images import load_rgb
from bias.errors import VitbiasError

RED, BLUE = (255, 0, 0), (0, 0, 255)


def pixels(img: Image.Image) -> np.ndarray:
    assert img.mode == "RGB"
    return np.asarray(img).astype(int)


def test_grayscale_and_16_bit(tmp_path):
    Image.new("L", (6, 4), 77).save(tmp_path / "g.png")
    assert (pixels(load_rgb(tmp_path / "g.png")) == 77).all()
    arr = np.full((4, 6), 65535 // 2, dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / "g16.png")  # mode I;16 when read back
    assert np.abs(pixels(load_rgb(tmp_path / "g16.png")) - 127.5).max() <= 0.5


def test_palette_with_and_without_transparency(tmp_path):
    img = Image.new("P", (4, 4), 1)
    img.putpalette([0, 0, 0, *RED] + [0] * 762)
    img.save(tmp_path / "p.png")
    assert (pixels(load_rgb(tmp_path / "p.png")) == RED).all()
    img.putpixel((0, 0), 0)
    img.save(tmp_path / "pt.png", transparency=0)  # index 0 transparent -> white
    out = pixels(load_rgb(tmp_path / "pt.png"))
    assert tuple(out[0, 0]) == (255, 255, 255) and tuple(out[1, 1]) == RED


def test_alpha_is_composited_on_white(tmp_path):
    arr = np.zeros((2, 2, 4), dtype=np.uint8)
    arr[0, 0] = (255, 0, 0, 255)   # opaque red stays red
    arr[0, 1] = (255, 0, 0, 0)     # transparent -> white
    arr[1, 0] = (0, 0, 0, 128)     # half black over white -> mid grey
    Image.fromarray(arr, "RGBA").save(tmp_path / "a.png")
    out = pixels(load_rgb(tmp_path / "a.png"))
    assert tuple(out[0, 0]) == RED and tuple(out[0, 1]) == (255, 255, 255)
    expected = round(255 * (1 - 128 / 255))
    assert np.abs(out[1, 0] - expected).max() <= 1
    la = Image.fromarray(np.array([[[10, 0]]], dtype=np.uint8), "LA")
    la.save(tmp_path / "la.png")
    assert tuple(pixels(load_rgb(tmp_path / "la.png"))[0, 0]) == (255, 255, 255)


def test_cmyk_jpeg(tmp_path):
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "c.jpg", quality=100)
    out = pixels(load_rgb(tmp_path / "c.jpg"))  # no cyan, full magenta + yellow = red
    assert np.abs(out - RED).max() <= 3


def test_exif_orientation_is_applied(tmp_path):
    arr = np.zeros((10, 20, 3), dtype=np.uint8)
    arr[:, :10] = RED
    arr[:, 10:] = BLUE
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: the viewer rotates 90 degrees clockwise
    Image.fromarray(arr).save(tmp_path / "r.jpg", exif=exif, quality=100)
    out = pixels(load_rgb(tmp_path / "r.jpg"))
    assert out.shape == (20, 10, 3)  # portrait now
    assert np.abs(out[2, 5] - RED).max() < 20 and np.abs(out[17, 5] - BLUE).max() < 20


def test_animated_gif_gives_first_frame(tmp_path):
    frames = [Image.new("RGB", (5, 5), c) for c in (RED, BLUE)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    with Image.open(tmp_path / "anim.gif") as check:
        assert check.n_frames == 2
    assert (pixels(load_rgb(tmp_path / "anim.gif")) == RED).all()


@pytest.mark.parametrize("suffix", ["webp", "bmp", "jpeg"])
def test_other_formats(tmp_path, suffix):
    Image.new("RGB", (7, 5), (10, 200, 30)).save(tmp_path / f"i.{suffix}", quality=100,
                                                 lossless=True)
    out = pixels(load_rgb(tmp_path / f"i.{suffix}"))
    assert out.shape == (5, 7, 3) and np.abs(out - (10, 200, 30)).max() <= 3


def test_unreadable_files_name_the_file(tmp_path):
    (tmp_path / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    with pytest.raises(VitbiasError, match=r"corrupt\.jpg"):
        load_rgb(tmp_path / "corrupt.jpg")
    Image.new("RGB", (64, 64), RED).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(VitbiasError, match=r"truncated\.png"):
        load_rgb(tmp_path / "truncated.png")
    with pytest.raises(VitbiasError, match=r"missing\.png"):
        load_rgb(tmp_path / "missing.png")
