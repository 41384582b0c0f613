"""Figures of association results, drawn with matplotlib's object API on the Agg canvas.

No pyplot: figures never touch a display or global state, so reports render headless and in
threads. Each plotting function takes a tidy frame (columns named in its docstring) and returns
a ``Figure``; :func:`render` turns it into PNG (embedded in the HTML) and SVG (for papers)
bytes, with fixed metadata so that the same data give the same files.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

STYLE = {"font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7,
         "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
         "axes.spines.right": False, "svg.hashsalt": "vitbias", "svg.fonttype": "path"}
DIVERGING = "RdBu_r"
P = ParamSpec("P")


def styled(draw: Callable[P, Figure]) -> Callable[P, Figure]:
    """Draw under :data:`STYLE`: matplotlib reads rcParams when each artist is created."""
    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)
    return wrapper


@dataclass(frozen=True)
class RenderedFigure:
    """One figure as files: ``<name>.png`` and ``<name>.svg``, with its caption."""

    name: str
    caption: str
    png: bytes
    svg: bytes


def render(fig: Figure, name: str, caption: str) -> RenderedFigure:
    """PNG (110 dpi) and SVG bytes of ``fig``; dates and software versions are left out."""
    with matplotlib.rc_context(STYLE):
        png, svg = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        fig.savefig(svg, format="svg", bbox_inches="tight", metadata={"Date": None})
    return RenderedFigure(name, caption, png.getvalue(), svg.getvalue())


def _panels(n: int, width: float, height: float, sharey: bool = True) -> tuple[Figure, list]:
    fig = Figure(figsize=(width * n, height), layout="constrained")
    return fig, list(fig.subplots(1, n, sharey=sharey, squeeze=False)[0])


def _colors(n: int) -> list:
    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _err(frame: pd.DataFrame, est: str, low: str | None, high: str | None) -> np.ndarray | None:
    """Asymmetric error bars (2, n) from interval columns; missing bounds draw no bar."""
    if not low or not high or low not in frame or high not in frame:
        return None
    e = frame[est].to_numpy(float)
    lo = np.nan_to_num(e - frame[low].to_numpy(float), nan=0.0)
    hi = np.nan_to_num(frame[high].to_numpy(float) - e, nan=0.0)
    return np.vstack([np.clip(lo, 0, None), np.clip(hi, 0, None)])


def _points(ax, x, y, color, sig: np.ndarray | None) -> None:
    """Markers filled where significant, hollow elsewhere (all filled without p-values)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    sig = np.ones(len(x), bool) if sig is None else sig
    ax.scatter(x[sig], y[sig], color=color, s=16, zorder=3)
    ax.scatter(x[~sig], y[~sig], facecolors="white", edgecolors=[color], s=16, zorder=3)


@styled
def curves(frame: pd.DataFrame, *, x: str, line: str, panel: str, y: str = "effect_size",
           significant: str | None = None, line_order: Sequence | None = None,
           xlabel: str = "layer", legend_title: str | None = None, title: str = "") -> Figure:
    """One panel per ``panel`` value, one line per ``line`` value: ``y`` against ``x``.

    ``significant`` names a boolean column: filled markers there, hollow elsewhere."""
    panels = list(pd.unique(frame[panel]))
    lines = list(line_order) if line_order is not None else sorted(pd.unique(frame[line]), key=str)
    fig, axes = _panels(len(panels), 4.2, 3.2)
    colors = dict(zip(lines, _colors(len(lines)), strict=True))
    for ax, p in zip(axes, panels, strict=True):
        sub = frame[frame[panel] == p]
        for name in lines:
            g = sub[sub[line] == name].sort_values(x)
            if g.empty:
                continue
            ax.plot(g[x].to_numpy(float), g[y].to_numpy(float), color=colors[name], lw=1.2,
                    label=str(name))
            sig = g[significant].to_numpy(bool) if significant else None
            _points(ax, g[x], g[y], colors[name], sig)
        ax.axhline(0, color="black", lw=0.7)
        ax.set(title=f"{panel}: {p}", xlabel=xlabel)
    axes[0].set_ylabel("effect size d")
    by_label = {}
    for ax in axes:  # a line may be absent from the first panel
        by_label.update(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
    names = [str(n) for n in lines if str(n) in by_label]  # legend in line order
    fig.legend([by_label[n] for n in names], names, loc="outside right upper",
               title=legend_title or line)
    if title:
        fig.suptitle(title)
    return fig


@styled
def forest(frame: pd.DataFrame, *, label: str, panel: str, estimate: str = "effect_size",
           low: str = "ci_low", high: str = "ci_high", significant: str | None = None,
           xlabel: str = "effect size d with CI", title: str = "") -> Figure:
    """Forest plot: one row per ``label`` (in frame order), estimate with interval, a panel
    per ``panel`` value."""
    panels = list(pd.unique(frame[panel]))
    labels = list(dict.fromkeys(frame[label].astype(str)))
    fig, axes = _panels(len(panels), 3.6, 0.8 + 0.24 * len(labels))
    pos = {name: len(labels) - 1 - i for i, name in enumerate(labels)}
    for ax, p in zip(axes, panels, strict=True):
        sub = frame[frame[panel] == p]
        ys = sub[label].astype(str).map(pos).to_numpy()
        ax.errorbar(sub[estimate], ys, xerr=_err(sub, estimate, low, high), fmt="none",
                    ecolor="0.3", lw=1, capsize=2)
        sig = sub[significant].to_numpy(bool) if significant else None
        _points(ax, sub[estimate], ys, "C0", sig)
        ax.axvline(0, color="black", lw=0.7, ls="--")
        ax.set(title=f"{panel}: {p}", xlabel=xlabel, ylim=(-0.7, len(labels) - 0.3))
    axes[0].set_yticks(range(len(labels)), labels[::-1])
    if title:
        fig.suptitle(title)
    return fig


@styled
def heatmap(values: pd.DataFrame, significant: pd.DataFrame, *, title: str = "") -> Figure:
    """Rows × columns of d (e.g. tests × models); ``*`` marks cells where ``significant``."""
    n_rows, n_cols = values.shape
    fig = Figure(figsize=(min(28.0, max(3.6, 1.8 + 0.42 * n_cols)),
                          max(2.4, 1.4 + 0.34 * n_rows)), layout="constrained")
    ax = fig.subplots()
    arr = values.to_numpy(float)
    finite = np.isfinite(arr)
    lim = max(1.0, float(np.ceil(np.abs(arr[finite]).max() * 2) / 2)) if finite.any() else 1.0
    im = ax.imshow(np.ma.masked_invalid(arr), cmap=DIVERGING, vmin=-lim, vmax=lim,
                   aspect="auto")
    ax.set_xticks(range(n_cols), [str(c) for c in values.columns], rotation=90)
    ax.set_yticks(range(n_rows), [str(r) for r in values.index])
    ax.grid(False)
    small = n_cols * n_rows <= 400  # numbers in the cells only while they stay legible
    for (i, j), v in np.ndenumerate(arr):
        star = "*" if bool(significant.iat[i, j]) else ""
        text = (f"{v:.2f}{star}" if small else star) if np.isfinite(v) else ""
        ax.text(j, i, text, ha="center", va="center", fontsize=6,
                color="white" if np.isfinite(v) and abs(v) > 0.6 * lim else "black")
    fig.colorbar(im, ax=ax, label="effect size d", shrink=0.8)
    if title:
        ax.set_title(title)
    return fig


@styled
def factor_effects(panels: Sequence[tuple[str, pd.DataFrame]], *, ci: str = "t 95% CI",
                   title: str = "") -> Figure:
    """One panel per factor: mean d per level (column ``level``) with ``ci_low/ci_high`` and
    ``n_significant/n_with_p`` written above each point."""
    fig, axes = _panels(len(panels), 2.8, 3.0)
    for ax, (factor, s) in zip(axes, panels, strict=True):
        xs = np.arange(len(s))
        ax.errorbar(xs, s["mean_d"], yerr=_err(s, "mean_d", "ci_low", "ci_high"), fmt="o",
                    color="C0", capsize=3)
        for x, (_, r) in zip(xs, s.iterrows(), strict=True):
            top = r["ci_high"] if np.isfinite(r["ci_high"]) else r["mean_d"]
            ax.annotate(f"{int(r['n_significant'])}/{int(r['n_with_p'])}", (x, top),
                        textcoords="offset points", xytext=(0, 3), ha="center", fontsize=6)
        ax.set_xticks(xs, s["level"].astype(str), rotation=30, ha="right")
        ax.axhline(0, color="black", lw=0.7)
        ax.set(title=factor, xlim=(-0.6, len(s) - 0.4))
    axes[0].set_ylabel(f"mean d ({ci})")
    if title:
        fig.suptitle(title)
    return fig


@styled
def grouped(frame: pd.DataFrame, *, x: str, hue: str, hue_order: Sequence, x_order: Sequence,
            ci: str = "t 95% CI", title: str = "") -> Figure:
    """Mean d with CI per ``x`` level, side by side per ``hue`` level (e.g. the CDA
    comparison: objective × data condition). Columns: x, hue, mean_d, ci_low, ci_high."""
    fig, (ax,) = _panels(1, max(4.0, 1.2 * len(x_order) + 1.5), 3.2)
    width = 0.8 / max(1, len(hue_order))
    for k, (h, color) in enumerate(zip(hue_order, _colors(len(hue_order)), strict=True)):
        s = frame[frame[hue] == h].set_index(x).reindex(list(x_order)).reset_index()
        xs = np.arange(len(x_order)) - 0.4 + width * (k + 0.5)
        ax.errorbar(xs, s["mean_d"], yerr=_err(s, "mean_d", "ci_low", "ci_high"), fmt="o",
                    color=color, capsize=3, label=str(h))
    ax.set_xticks(range(len(x_order)), [str(v) for v in x_order])
    ax.axhline(0, color="black", lw=0.7)
    ax.set(ylabel=f"mean d ({ci})", xlabel=x, title=title)
    ax.legend(title=hue)
    return fig


@styled
def calibration(cells: pd.DataFrame, summary: pd.DataFrame, *, ci: str = "t 95% CI",
                seed: int = 0) -> Figure:
    """Planted β (x) against detected d: every model × test cell (jittered dots) and the mean
    with CI per β. ``cells``: planted_beta, effect_size; ``summary``: level, mean_d, ci_*."""
    fig, (ax,) = _panels(1, 4.2, 3.2)
    rng = np.random.default_rng(seed)  # jitter only; seeded so the figure is reproducible
    xs = cells["planted_beta"].to_numpy(float)
    ax.scatter(xs + rng.uniform(-0.015, 0.015, xs.size), cells["effect_size"], s=6,
               color="0.6", alpha=0.5, label="model × test")
    s = summary.sort_values("level")
    ax.errorbar(s["level"].astype(float), s["mean_d"], yerr=_err(s, "mean_d", "ci_low", "ci_high"),
                fmt="o-", color="C3", capsize=3, label=f"mean ({ci})")
    ax.axhline(0, color="black", lw=0.7)
    ax.set(xlabel="planted β", ylabel="detected effect size d")
    ax.legend()
    return fig
