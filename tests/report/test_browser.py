"""The study report opens in headless Chromium and every figure decodes there.

Chromium is Debian's package, installed by the test set-up (`make test` / `.ci/run`). Without
it this test skips on a developer's machine, but fails under CI, where it must run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bias.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
# Appended to a copy of the page: records each image's decoded width in the DOM, so the
# dumped DOM tells whether the browser could decode the inlined figures.
PROBE = ("<script>window.addEventListener('load', () => document.body.setAttribute("
         "'data-widths', Array.from(document.images).map(i => i.naturalWidth).join(',')));"
         "</script>")


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report(study_csv, tmp_path_factory) -> Path:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium (installed by `make test`)")
        pytest.skip("chromium is not installed (make test installs it)")
    results, catalog = study_csv
    d = tmp_path_factory.mktemp("browser")
    assert main(["aggregate", "--results", str(results), "--catalog", str(catalog),
                 "--out", str(d / "agg")]) == 0
    assert main(["report", "--aggregate", str(d / "agg"), "--out", str(d / "reports")]) == 0
    return d / "reports" / "index.html"


def test_every_figure_decodes_in_chromium(report: Path, tmp_path):
    probe = report.with_name("probe.html")
    probe.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    proc = chromium("--virtual-time-budget=5000", "--dump-dom", probe.as_uri(),
                    profile=tmp_path / "p1")
    match = re.search(r'data-widths="([\d,]*)"', proc.stdout)
    assert match, proc.stderr[-2000:]
    widths = [int(w) for w in match.group(1).split(",") if w]
    assert len(widths) == report.read_text().count("<img")
    assert widths and all(w > 100 for w in widths), widths


def test_screenshot_shows_the_rendered_page(report: Path, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri(),
             profile=tmp_path / "p2")
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 1600)
    # A blank or error page has a handful of colours; text plus figures have thousands.
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 500
