"""Generate a synthetic world on disk: training images with planted biases, stimuli, catalog.

Layout of ``<out>``::

    train/<class>/<index>.png    ImageFolder layout; class = <object kind>-<scene kind>
    metadata.csv                 one row per training image (columns below)
    stimuli/<category>/<concept>/<index>.png   iEAT layout, see bias.world.stimulus_sets
    stimuli.csv                  one row per stimulus image (file relative to stimuli/)
    catalog.yaml                 the test catalog with each test's planted_beta
    world.json                   parameters, seed, attributes, biases, classes, versions

``metadata.csv`` columns: ``file`` (relative to ``train/``), ``class``, ``tone``, ``gender``,
``context`` (the context object's concept, ``valence/pleasant`` or ``valence/unpleasant``),
``valence``, ``career`` (``career`` or ``family``: the scene), ``x0, y0, x1, y1`` (person box,
pixels), ``obj_fade, tex_fade`` (0: clearly visible; 0.7-0.95: a hard example where the cue
fades into the wall), then every field of :class:`~bias.world.scene.SceneParams`, so
``render_scene(SceneParams.from_row(row))`` redraws the image exactly.
"""

from __future__ import annotations

import csv
import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from bias.errors import VitbiasError
from bias.io import atomic_dir, versions, write_json
from bias.world import sample
from bias.world.catalog import write_catalog
from bias.world.palette import PALETTES
from bias.world.scene import SceneParams, render_scene
from bias.world.spec import (
    ATTRIBUTES,
    BIASES,
    CONCEPTS,
    NULL_KINDS,
    PLEASANT_KINDS,
    SCENE_OF,
    UNPLEASANT_KINDS,
    VALENCE_CUES,
    WALL_LINES_OF,
    classes,
    resolve_biases,
)
from bias.world.stimulus_sets import DEFAULT_STYLE, LAYOUTS, Style, stimulus_scenes

log = logging.getLogger(__name__)

FORMAT = "vitbias-world/1"
TRAIN_STREAM = 0
MIN_SIZE, MAX_SIZE = 16, 512
HARD_FRACTION = 0.4  # share of training scenes whose object / wall texture is faded
_KINDS = {"pleasant": PLEASANT_KINDS, "unpleasant": UNPLEASANT_KINDS}


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def train_scene(index: int, seed: int, size: int, biases: Mapping[str, float],
                hard_fraction: float = HARD_FRACTION,
                style: Style = DEFAULT_STYLE) -> tuple[dict[str, Any], SceneParams]:
    """Training scene ``index``: its labels and its parameters.

    Labels: ``tone, gender`` (the person), ``valence, career, null`` (the context concepts)
    and ``obj_fade, tex_fade`` (0 = clearly visible). The bias draws follow
    ``P(a | group) = (1 +- beta) / 2`` per bias; the object and the wall texture are each
    faded (hard to see) in ``hard_fraction`` of the scenes.
    """
    rng = np.random.default_rng([seed, TRAIN_STREAM, index])
    labels: dict[str, Any] = dict(sample.group(rng))
    for name, spec in BIASES.items():
        p_a = spec.p_a(labels[spec.attribute], biases[name])
        labels[spec.category] = spec.a if rng.random() < p_a else spec.b
    labels["null"] = _pick(rng, NULL_KINDS)  # independent of every group: the null pair
    kind = _pick(rng, _KINDS[labels["valence"]])
    person_x, object_x = sample.training_layout(rng)
    labels["obj_fade"] = sample.fade(rng, hard_fraction)
    labels["tex_fade"] = sample.fade(rng, hard_fraction)
    pal = style.colours
    fields = sample.background(rng, SCENE_OF[labels["career"]], labels["tex_fade"], pal=pal)
    fields |= sample.person(rng, fields["wall"], person_x, pal=pal)
    fields |= sample.context_object(rng, kind, fields["wall"], object_x,
                                    fade=labels["obj_fade"], scale=style.object_scale, pal=pal)
    fields |= sample.null_object(rng, labels["null"], fields["wall"], object_x, pal=pal)
    if style.valence_cue == "wall":
        fields["tex_lines"] = WALL_LINES_OF[labels["valence"]]
    params = SceneParams(size=size, tone=labels["tone"], gender=labels["gender"], **fields)
    return labels, params


def metadata_row(file: str, labels: Mapping[str, Any], params: SceneParams) -> dict[str, Any]:
    """One metadata.csv row: the contract columns first, then every scene parameter."""
    x0, y0, x1, y1 = params.person_bbox()
    row: dict[str, Any] = {
        "file": file, "class": f"{params.obj}-{params.scene}", "tone": params.tone,
        "gender": params.gender, "context": f"valence/{labels['valence']}",
        "valence": labels["valence"], "career": labels["career"],
        "x0": x0, "y0": y0, "x1": x1, "y1": y1,
        "obj_fade": labels["obj_fade"], "tex_fade": labels["tex_fade"],
    }
    return row | {k: v for k, v in params.to_row().items() if k not in row}


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _check_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise VitbiasError(f"world: {name} must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        bound = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise VitbiasError(f"world: {name} must be {bound}, got {value}")
    return int(value)


def _check_style(object_scale: Any, layout: Any, palette: Any, valence_cue: Any) -> Style:
    try:
        scale = float(object_scale)
    except (TypeError, ValueError) as exc:
        raise VitbiasError(f"world: object_scale must be a number, got {object_scale!r}") from exc
    if not 0.5 <= scale <= 2.5:  # beyond: objects vanish or cover the whole scene
        raise VitbiasError(f"world: object_scale must be in [0.5, 2.5], got {object_scale}")
    if layout not in LAYOUTS:
        raise VitbiasError(f"world: stimulus_layout must be one of {list(LAYOUTS)}, "
                           f"got {layout!r}")
    if palette not in PALETTES:
        raise VitbiasError(f"world: palette must be one of {list(PALETTES)}, got {palette!r}")
    if valence_cue not in VALENCE_CUES:
        raise VitbiasError(f"world: valence_cue must be one of {list(VALENCE_CUES)}, "
                           f"got {valence_cue!r}")
    return Style(layout=layout, object_scale=scale, palette=palette, valence_cue=valence_cue)


def _check_out(out: Path) -> None:
    """Refuse to replace a folder that is not a previous world (it would be deleted)."""
    if out.exists() and (not out.is_dir() or
                         (any(out.iterdir()) and not (out / "world.json").is_file())):
        raise VitbiasError(f"world: output {out} exists and is not a vitbias world; "
                           "choose another --out or remove it")


def _render_all(root: Path, jobs: Iterable[tuple[str, SceneParams]], total: int) -> None:
    made: set[Path] = set()
    for rel, params in tqdm(jobs, total=total, desc="world", unit="img", leave=False):
        path = root / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        render_scene(params).save(path, format="PNG", optimize=False, compress_level=6)


def generate_world(out_dir: str | os.PathLike[str], *, size: int = 32, n_train: int = 3000,
                   biases: Mapping[str, float] | None = None, seed: int = 0,
                   n_stimuli: int = 32, object_scale: float = 1.0,
                   stimulus_layout: str = "centre", palette: str = "varied",
                   valence_cue: str = "object") -> Path:
    """Write a world to ``out_dir`` (atomically: a failure leaves nothing); returns the path.

    ``biases`` overrides the default betas (``{"valence": 0.8, "career": 0.8}``) by name;
    ``{"valence": 0, "career": 0}`` is the unbiased control world. ``object_scale`` scales the
    context objects (training and stimuli); ``stimulus_layout`` is ``centre`` or ``training``
    (see :mod:`bias.world.stimulus_sets`); ``palette`` is ``varied`` or ``plain`` (see
    :data:`bias.world.palette.PALETTES`). ``valence_cue="wall"`` also shows valence as the
    wall's line topology (grid or stripes) and makes the valence stimuli empty walls: the
    object is a small, local cue that no self-supervised model associated with the person;
    a whole-wall property that survives crops and flips, like the career orientation,
    SimCLR does (benchmarks/results/calibration_wall.md).
    """
    size = _check_int("size", size, MIN_SIZE, MAX_SIZE)
    n_train = _check_int("n_train", n_train, 1)
    n_stimuli = _check_int("n_stimuli", n_stimuli, 2)
    seed = _check_int("seed", seed, 0)
    style = _check_style(object_scale, stimulus_layout, palette, valence_cue)
    betas = resolve_biases(biases)
    out = Path(out_dir)
    _check_out(out)

    train = [train_scene(i, seed, size, betas, style=style) for i in range(n_train)]
    rows = [metadata_row(f"{p.obj}-{p.scene}/{i:05d}.png", lab, p)
            for i, (lab, p) in enumerate(train)]
    stimuli = list(stimulus_scenes(n_stimuli, seed, size, style))
    stim_rows = [{"file": f"{cat}/{con}/{i:03d}.png", "concept": f"{cat}/{con}"}
                 | p.to_row() for cat, con, i, p in stimuli]
    jobs = [(f"train/{r['file']}", p) for r, (_, p) in zip(rows, train, strict=True)]
    jobs += [(f"stimuli/{r['file']}", p)
             for r, (*_, p) in zip(stim_rows, stimuli, strict=True)]

    with atomic_dir(out) as tmp:
        _render_all(tmp, jobs, len(jobs))
        _write_csv(tmp / "metadata.csv", rows)
        _write_csv(tmp / "stimuli.csv", stim_rows)
        write_catalog(tmp / "catalog.yaml", betas)
        write_json(tmp / "world.json", _world_doc(size, seed, n_train, n_stimuli, betas, rows)
                   | {"object_scale": style.object_scale, "stimulus_layout": style.layout,
                      "palette": style.palette, "valence_cue": style.valence_cue})
    log.info("world: %d training images, %d stimuli in %s", n_train, len(stimuli), out)
    return out


def _world_doc(size: int, seed: int, n_train: int, n_stimuli: int,
               betas: Mapping[str, float], rows: list[dict[str, Any]]) -> dict[str, Any]:
    per_class = Counter(r["class"] for r in rows)
    present = sorted(per_class)
    missing = sorted(set(classes()) - set(present))
    if missing:
        log.warning("world: %d class(es) have no training image: %s", len(missing), missing)
    return {
        "format": FORMAT, "size": size, "seed": seed, "n_train": n_train,
        "n_stimuli": n_stimuli, "biases": dict(betas), "hard_fraction": HARD_FRACTION,
        "attributes": {k: list(v) for k, v in ATTRIBUTES.items()},
        "bias_specs": {n: {"attribute": s.attribute, "favoured": s.favoured,
                           "a": f"{s.category}/{s.a}", "b": f"{s.category}/{s.b}",
                           "description": s.description} for n, s in BIASES.items()},
        "null_pair": [f"null/{k}" for k in NULL_KINDS],
        "object_kinds": {"pleasant": list(PLEASANT_KINDS), "unpleasant": list(UNPLEASANT_KINDS)},
        "scene_kinds": {f"career/{c}": s for c, s in SCENE_OF.items()},
        "classes": present, "class_counts": dict(sorted(per_class.items())),
        "concepts": {c: list(v) for c, v in CONCEPTS.items()},
        "files": {"train": "train", "metadata": "metadata.csv", "stimuli": "stimuli",
                  "stimuli_metadata": "stimuli.csv", "catalog": "catalog.yaml"},
        "versions": versions(),
    }
