"""Synthetic association results and an HTML checker for the report tests."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

import numpy as np
import pandas as pd
from PIL import Image

VOID = {"meta", "img", "br", "hr", "link", "input", "source", "wbr"}
PLANTED = {"Valence": 0.8, "Career": 0.5, "Null": 0.0}


def study_results(seed: int = 0, objectives=("supervised", "mae"), sizes=("micro", "tiny"),
                  datas=("original", "1-sided", "2-sided"), seeds=(0, 1),
                  poolings=("cls", "mean")) -> pd.DataFrame:
    """Tidy results of a realistic small study: d grows with depth and with the planted β,
    falls with counterfactual augmentation; p from a normal approximation."""
    rng = np.random.default_rng(seed)
    depth = {"micro": 3, "tiny": 4}
    scale = {"original": 1.4, "1-sided": 0.9, "2-sided": 0.6}
    rows = []
    for o in objectives:
        for s in sizes:
            for dc in datas:
                for sd in seeds:
                    for pool in poolings:
                        for layer in range(depth[s]):
                            for test, beta in PLANTED.items():
                                d = beta * scale[dc] * (layer + 1) / depth[s] + rng.normal(0, .1)
                                w = rng.uniform(0.25, 0.45)
                                p = float(np.clip(np.exp(-4 * d), 1e-6, 1))
                                rows.append({
                                    "model": f"{o}-{s}-{dc}-s{sd}", "objective": o, "size": s,
                                    "data": dc, "seed": sd, "layer": layer, "pooling": pool,
                                    "test": test, "x": "tone/light", "y": "tone/dark",
                                    "a": "valence/pleasant", "b": "valence/unpleasant",
                                    "n_x": 24, "n_y": 24, "n_a": 16, "n_b": 16,
                                    "effect_size": d, "ci_low": d - w, "ci_high": d + w,
                                    "p_value": p, "p_method": "monte-carlo",
                                    "n_permutations": 10000, "p_se": 0.001,
                                    "p_adjusted": min(1.0, 3 * p), "alternative": "greater",
                                    "correction": "holm"})
    return pd.DataFrame(rows)


def with_lowlevel(res: pd.DataFrame) -> pd.DataFrame:
    """``res`` plus a low-level baseline at layer 0 for every test: ``hog`` with d 1.5
    (p 0.001) and ``pixels`` with d -0.2 (p 0.9)."""
    base = res[(res["model"] == res["model"].iloc[0]) & (res["layer"] == 0)
               & (res["pooling"] == res["pooling"].iloc[0])].assign(
        model="loaded/lowlevel", objective="lowlevel", size=None, seed=None)
    hog = base.assign(pooling="hog", effect_size=1.5, p_value=0.001, p_adjusted=0.003)
    pix = base.assign(pooling="pixels", effect_size=-0.2, p_value=0.9, p_adjusted=1.0)
    return pd.concat([res, hog, pix], ignore_index=True)


def catalog_yaml() -> str:
    lines = ["version: 1", "tests:"]
    lines += [f"  - {{name: '{t}', x: tone/light, y: tone/dark, a: valence/pleasant, "
              f"b: valence/unpleasant, planted_beta: {b}}}" for t, b in PLANTED.items()]
    return "\n".join(lines) + "\n"


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.imgs: list[str] = []
        self.urls: list[str] = []
        self.ids: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src") or "")
        self.urls += [v for k, v in a.items() if k in ("href", "src") and v]
        if "id" in a:
            self.ids.append(a["id"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_html(doc: str) -> _Checker:
    """Parse ``doc`` and assert it is balanced and self-contained; return what was found."""
    assert doc.startswith("<!DOCTYPE html>")
    c = _Checker()
    c.feed(doc)
    c.close()
    assert not c.errors, c.errors[:5]
    assert not c.stack, c.stack
    assert "http://" not in doc and "https://" not in doc and "<script" not in doc.lower()
    assert all(u.startswith(("data:", "#")) for u in c.urls), [u[:40] for u in c.urls]
    for src in c.imgs:  # every figure is an inline PNG that decodes
        assert src.startswith("data:image/png;base64,")
        img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        img.load()
        assert img.format == "PNG" and min(img.size) > 50
    assert len(c.ids) == len(set(c.ids)), "duplicate ids"
    return c
