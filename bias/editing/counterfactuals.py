"""Counterfactual data augmentation (CDA) sets: every person of a dataset with one protected
attribute flipped by a diffusion editor, quality-checked, in the dataset's own layout.

Output of :func:`run_counterfactuals` (``vitbias counterfactuals``), an ImageFolder root that
``vitbias train --data`` reads directly (no other sub-folders than the classes)::

    <out>/<class>/<stem>__<attr>-<to>.png   accepted edits, same class names as the input
    <out>/metadata.csv   accepted edits, world layout (file relative to <out>, class, every
                         protected attribute *after* the edit, the source's other columns) plus
                         source_file, edited_attribute, from_value, to_value, flip_score,
                         outside_change, mask_fraction, seed, accepted, drop_reason,
                         source_prompt, target_prompt
    <out>/dropped.csv    the same columns for dropped edits (no image; drop_reason says why)
    <out>/edits.json     editor and judge parameters, thresholds, seeds, counts (planned,
                         edited, accepted, dropped by reason, skipped by reason), rates
    <out>/world.json     copied from a synthetic world, so the set reads like one
    <out>/judge.{safetensors,json}  the pixel judge trained on the world's labels (worlds)

Resumable: each accepted image is written atomically and every finished edit (accepted or
dropped) is appended to ``<out>/.journal.jsonl``; a rerun skips finished edits and recomputes
nothing; ``metadata.csv``, ``dropped.csv`` and ``edits.json`` are written last, so their
presence means the set is complete. A rerun with different editing parameters is refused.
Each edit's seed derives from the run seed and the source file, so results do not depend on
batching or on where a run was interrupted.

``--limit N`` takes the first N edits in class round-robin order, so that a small set still
covers every class (training concatenates folders only when their class lists agree).

Training configurations (Brinkmann et al., 2023), as folders given to ``vitbias train``:

- **1-sided CDA**: the originals plus the counterfactuals of one direction,
  ``vitbias train --data WORLD/train --data CF_A_TO_B`` (made with ``--direction a-to-b``);
- **2-sided CDA**: the originals plus the counterfactuals of both directions, as one folder
  (``--direction both``) or two (``a-to-b`` and ``b-to-a``):
  ``vitbias train --data WORLD/train --data CF_A_TO_B --data CF_B_TO_A``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from bias.editing.base import Editor
from bias.editing.data import ImageTable, load_images, read_data, save_png
from bias.editing.judge import (
    JUDGE_META,
    ClipJudge,
    QAThresholds,
    flip_scores,
    load_pixel_judge,
    outside_mask_change,
    review,
    save_pixel_judge,
    train_pixel_judge,
)
from bias.editing.plan import EditJob, pick_pair, plan_edits
from bias.editing.selection import DEFAULT_TERM_PAIRS, ClipScorer, load_term_pairs, select_people
from bias.errors import VitbiasError
from bias.io import atomic_file, versions, write_json

log = logging.getLogger(__name__)

JOURNAL = ".journal.jsonl"
RUN = ".run.json"
EDIT_COLUMNS = ["source_file", "edited_attribute", "from_value", "to_value", "flip_score",
                "outside_change", "mask_fraction", "seed", "accepted", "drop_reason",
                "source_prompt", "target_prompt"]


@dataclass
class CounterfactualConfig:
    attribute: str | None = None      # default: the world's first attribute, or "gender"
    values: list[str] | None = None   # the two values swapped (default: the attribute's two)
    direction: str = "both"           # both | a-to-b | b-to-a
    limit: int | None = None          # at most this many edits (in table order)
    seed: int = 0
    batch_size: int = 16
    thresholds: QAThresholds = field(default_factory=QAThresholds)
    clip: str | None = None           # open_clip model for photos: selection + judge
    min_person: float = 0.5
    min_confidence: float = 0.6
    judge_steps: int = 600
    image_size: int | None = None     # resize photos to a square of this size
    term_pairs: str = str(DEFAULT_TERM_PAIRS)

    def fingerprint(self) -> dict[str, Any]:
        """What the edits depend on (limit and batch size do not change any single edit)."""
        d = asdict(self)
        for k in ("limit", "batch_size"):
            d.pop(k)
        return d


def _photo_labels(data: ImageTable, cfg: CounterfactualConfig, attribute: str,
                  values: list[str], size: tuple[int, int] | None) -> tuple[pd.DataFrame, dict]:
    """Zero-shot labels of unlabelled photos; rows that show no clear person are skipped."""
    from tqdm.auto import tqdm

    if cfg.clip is None:
        raise VitbiasError(f"{data.data_dir} has no world.json attributes: pass --clip "
                           "ARCH@FILE (an open_clip model) to find people and their "
                           f"'{attribute}' zero-shot")
    scorer = ClipScorer(cfg.clip)
    files = data.table["file"].tolist()
    parts = []
    for i in tqdm(range(0, len(files), cfg.batch_size), desc="select", unit="batch"):
        images = load_images(data.root, files[i:i + cfg.batch_size], size)
        parts.append(select_people(scorer, images, values, cfg.min_person, cfg.min_confidence))
    scores = pd.concat(parts, ignore_index=True)
    table = data.table.reset_index(drop=True).assign(
        **{attribute: scores["value"], "person_score": scores["person_score"],
           "value_confidence": scores["confidence"]})
    no_person = int((scores["person_score"] < cfg.min_person).sum())
    skipped = {"no_person": no_person, "unclear_value": int((~scores["selected"]).sum())
               - no_person}
    return table[scores["selected"].to_numpy()], {"scorer": scorer, "skipped": skipped}


def _judge(data: ImageTable, cfg: CounterfactualConfig, out: Path, attribute: str,
           values: list[str], scorer: Any) -> tuple[Any, dict[str, Any]]:
    if scorer is not None:
        return ClipJudge(scorer, {attribute: values}), {"kind": "clip", **scorer.describe()}
    if (out / JUDGE_META).is_file():
        judge, meta = load_pixel_judge(out)
        return judge, {"kind": "pixel-cnn", **meta["report"]}
    images = load_images(data.root, data.table["file"].tolist())
    judge, report = train_pixel_judge(images, data.table, data.attributes,
                                      steps=cfg.judge_steps, seed=cfg.seed)
    save_pixel_judge(judge, report, out)
    return judge, {"kind": "pixel-cnn", **report}


def _check_run(out: Path, fingerprint: dict[str, Any]) -> None:
    run = out / RUN
    doc = json.loads(json.dumps(fingerprint, default=str))
    if run.is_file():
        old = json.loads(run.read_text())
        if old != doc:
            changed = sorted(k for k in set(old) | set(doc) if old.get(k) != doc.get(k))
            raise VitbiasError(f"{out} holds edits made with other settings ({changed}); use a "
                               "new --out or delete it")
        return
    write_json(run, doc)


def _read_journal(out: Path) -> dict[str, dict[str, Any]]:
    """Finished edits by output file; also removes temporary files a killed run left."""
    for stale in out.glob("*/.*.png"):
        stale.unlink()
    done: dict[str, dict[str, Any]] = {}
    path = out / JOURNAL
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash: that edit is simply redone
            if not rec["accepted"] or (out / rec["out_file"]).is_file():
                done[rec["out_file"]] = rec
    return done


def _edit_batch(editor: Editor, judge: Any, data: ImageTable, jobs: list[EditJob],
                size: tuple[int, int] | None, cfg: CounterfactualConfig,
                out: Path) -> list[dict[str, Any]]:
    images = load_images(data.root, [j.source_file for j in jobs], size)
    result = editor.edit(images, [j.request for j in jobs], [j.seed for j in jobs])
    attribute = jobs[0].request.attribute
    flip = flip_scores(judge, result.images, attribute, [j.request.to_value for j in jobs])
    outside = outside_mask_change(images, result.images, result.masks)
    reasons = review(flip, outside, cfg.thresholds)
    records = []
    for i, job in enumerate(jobs):
        if not reasons[i]:
            save_png(result.images[i], out / job.out_file)
        records.append({"out_file": job.out_file, "row": job.row,
                        "source_file": job.source_file, "seed": job.seed,
                        "flip_score": float(flip[i]), "outside_change": float(outside[i]),
                        "mask_fraction": float(result.masks[i].mean()),
                        "accepted": not reasons[i], "drop_reason": reasons[i],
                        "source_prompt": job.request.source_prompt,
                        "target_prompt": job.request.target_prompt})
    return records


def _tables(table: pd.DataFrame, jobs: list[EditJob], done: dict[str, dict[str, Any]],
            attribute: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for job in jobs:
        rec = done[job.out_file]
        row = dict(table.iloc[job.row])
        row.update({"file": job.out_file if rec["accepted"] else "",
                    attribute: job.request.to_value, "source_file": job.source_file,
                    "edited_attribute": attribute, "from_value": job.request.from_value,
                    "to_value": job.request.to_value,
                    **{k: rec[k] for k in EDIT_COLUMNS[4:]}})
        rows.append(row)
    columns = [*table.columns, *(c for c in EDIT_COLUMNS if c not in table.columns)]
    frame = pd.DataFrame(rows, columns=columns)
    return frame[frame["accepted"]], frame[~frame["accepted"]].drop(columns=["file"])


def run_counterfactuals(editor: Editor, data_dir: str | os.PathLike[str],
                        out_dir: str | os.PathLike[str],
                        cfg: CounterfactualConfig | None = None) -> dict[str, Any]:
    """Edit, judge and write a counterfactual set (layout in the module docstring); returns
    the ``edits.json`` document."""
    from tqdm.auto import tqdm

    cfg = cfg or CounterfactualConfig()
    start = time.perf_counter()
    data = read_data(data_dir)
    size = (cfg.image_size, cfg.image_size) if cfg.image_size else None
    is_world = bool(data.attributes) and (data.data_dir / "metadata.csv").is_file()
    attribute = cfg.attribute or (next(iter(data.attributes)) if is_world else "gender")
    if is_world and attribute not in data.attributes:
        raise VitbiasError(f"attribute '{attribute}' is not one of the world's "
                           f"{list(data.attributes)}")
    all_values = data.attributes[attribute] if is_world else (cfg.values or ["man", "woman"])
    pair = pick_pair(attribute, all_values, cfg.values)
    table, scorer, skipped = data.table, None, {}
    if not is_world:
        table, extra = _photo_labels(data, cfg, attribute, list(pair), size)
        scorer, skipped = extra["scorer"], extra["skipped"]
    jobs = plan_edits(table, attribute, pair, cfg.direction, load_term_pairs(cfg.term_pairs),
                      cfg.seed, list(data.attributes) if is_world else [attribute], cfg.limit)
    if not jobs:
        raise VitbiasError(f"nothing to edit in {data.data_dir}: no image has {attribute} in "
                           f"{pair} for direction {cfg.direction}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _check_run(out, {"data": str(Path(data_dir).resolve()), "editor": editor.describe(),
                     **cfg.fingerprint()})
    judge, judge_info = _judge(data, cfg, out, attribute, list(pair), scorer)
    done = _read_journal(out)
    todo = [j for j in jobs if j.out_file not in done]
    log.info("%d edits planned, %d already done, %d to do", len(jobs), len(jobs) - len(todo),
             len(todo))
    with open(out / JOURNAL, "a") as journal, tqdm(total=len(jobs), initial=len(jobs) - len(todo),
                                                   desc="counterfactuals", unit="img") as bar:
        for i in range(0, len(todo), cfg.batch_size):
            batch = todo[i:i + cfg.batch_size]
            for rec in _edit_batch(editor, judge, data, batch, size, cfg, out):
                done[rec["out_file"]] = rec
                journal.write(json.dumps(rec) + "\n")
            journal.flush()
            os.fsync(journal.fileno())
            bar.update(len(batch))
    return _finish(out, data, table, jobs, done, attribute, pair, cfg, editor, judge_info,
                   skipped, len(todo), time.perf_counter() - start)


def _finish(out: Path, data: ImageTable, table: pd.DataFrame, jobs: list[EditJob],
            done: dict[str, dict[str, Any]], attribute: str, pair: tuple[str, str],
            cfg: CounterfactualConfig, editor: Editor, judge_info: dict[str, Any],
            skipped: dict[str, int], n_new: int, seconds: float) -> dict[str, Any]:
    accepted, dropped = _tables(table, jobs, done, attribute)
    flips = torch.tensor([done[j.out_file]["flip_score"] for j in jobs])
    missing = sorted(set(data.table["class"].astype(str)) - set(accepted["class"].astype(str)))
    if missing:  # ImageFolder concatenation in `vitbias train` needs every class
        log.warning("%d of %d classes have no accepted edit (%s): `vitbias train` will refuse "
                    "%s next to the originals; edit more images, train the editor longer or "
                    "lower --min-flip", len(missing), data.table["class"].nunique(),
                    ", ".join(missing[:5]), out)
    doc = {
        "data": str(data.data_dir), "attribute": attribute, "values": list(pair),
        "direction": cfg.direction, "config": json.loads(json.dumps(asdict(cfg), default=str)),
        "editor": editor.describe(), "judge": judge_info,
        "counts": {"planned": len(jobs), "edited_this_run": n_new,
                   "resumed": len(jobs) - n_new, "accepted": len(accepted),
                   "dropped": dropped["drop_reason"].value_counts().to_dict(),
                   "skipped": skipped, "classes_without_edits": missing},
        "rates": {"flip_rate_all": float((flips >= 0.5).float().mean()),
                  "accept_rate": len(accepted) / len(jobs),
                  "mean_flip_score": float(flips.mean()),
                  "mean_outside_change_accepted": float(accepted["outside_change"].mean())
                  if len(accepted) else None,
                  "mean_mask_fraction": float(pd.concat([accepted, dropped])
                                              ["mask_fraction"].mean())},
        "seconds_this_run": round(seconds, 2), "versions": versions(),
    }
    if (data.data_dir / "world.json").is_file():
        with atomic_file(out / "world.json") as tmp:
            shutil.copyfile(data.data_dir / "world.json", tmp)
    for name, frame in (("metadata.csv", accepted), ("dropped.csv", dropped)):
        with atomic_file(out / name) as tmp:
            frame.to_csv(tmp, index=False)
    write_json(out / "edits.json", doc)
    log.info("counterfactuals: %d accepted, %d dropped %s -> %s", len(accepted), len(dropped),
             doc["counts"]["dropped"], out)
    return doc
