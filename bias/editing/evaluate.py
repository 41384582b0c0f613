"""How good are the edits? On a synthetic world the answer is known: ``bias.world`` re-renders
any scene with one attribute flipped (the perfect counterfactual) and knows the person's mask.

:func:`evaluate_world_edits` edits ``n`` images (class round-robin) and reports:

- ``flip_rate`` / ``mean_flip_score``: the pixel judge's verdict on the edits (what
  ``vitbias counterfactuals`` filters on), next to ``gt_flip_rate``, the judge on the perfect
  counterfactuals (its ceiling);
- ``person_error_edit`` vs ``person_error_source``: mean |image - perfect counterfactual| over
  the person's pixels for the edit and for the unedited source; ``person_error_ratio`` < 1
  means edits move towards the truth (0 is perfect);
- ``outside_change`` (mean |change| outside the mask), ``mask_fraction``, ``mask_iou`` and
  ``mask_recall`` against the true person mask (before or after the flip);
- ``seconds_per_image`` of editing (model calls only).

Run as ``python -m bias.editing.evaluate --world DIR --editor DIR [--attribute A] [-n N]
[--param KEY=VALUE ...]``; it prints the metrics as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import numpy as np
import torch
from torch import Tensor

from bias.editing.data import load_images, read_data
from bias.editing.judge import flip_scores, outside_mask_change, train_pixel_judge
from bias.editing.plan import pick_pair, plan_edits


def ground_truth(rows: list[dict[str, Any]], attribute: str) -> tuple[Tensor, Tensor]:
    """(perfect counterfactuals (N, 3, H, W) in [0, 1], person masks (N, 1, H, W) in {0, 1}
    covering the person before or after the flip) of world metadata rows."""
    from bias.world import SceneParams, flip_attribute, person_mask, render_scene

    images, masks = [], []
    for row in rows:
        params = SceneParams.from_row(row)
        flipped = flip_attribute(params, attribute)
        images.append(np.asarray(render_scene(flipped), dtype=np.float32) / 255.0)
        masks.append(np.maximum(person_mask(params), person_mask(flipped)) > 0.5)
    gt = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
    return gt, torch.from_numpy(np.stack(masks).astype(np.float32))[:, None]


def _masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """(N,) mean of (N, C, H, W) ``values`` over channels and the pixels where mask is 1."""
    per_pixel = values.mean(dim=1, keepdim=True) * mask
    return per_pixel.sum(dim=(1, 2, 3)) / mask.sum(dim=(1, 2, 3)).clamp_min(1.0)


def evaluate_world_edits(editor: Any, world_dir: str | os.PathLike[str], attribute: str, *,
                         n: int = 256, judge: Any = None, judge_steps: int = 600,
                         seed: int = 0, batch_size: int = 64,
                         with_truth: bool = True) -> dict[str, Any]:
    """Edit ``n`` images of a generated world and compare with the truth (metrics above);
    ``with_truth=False`` skips the re-rendering (a world made by another bias.world version)
    and reports the judge, outside-change and mask-fraction metrics only."""
    data = read_data(world_dir)
    pair = pick_pair(attribute, data.attributes[attribute], None)
    jobs = plan_edits(data.table, attribute, pair, "both", [], seed, list(data.attributes), n)
    if judge is None:
        images = load_images(data.root, data.table["file"].tolist())
        judge, _ = train_pixel_judge(images, data.table, data.attributes, steps=judge_steps,
                                     seed=seed)
    source = load_images(data.root, [j.source_file for j in jobs])
    targets = [j.request.to_value for j in jobs]
    edited, masks, seconds = [], [], 0.0
    for i in range(0, len(jobs), batch_size):
        batch = jobs[i:i + batch_size]
        start = time.perf_counter()
        out = editor.edit(source[i:i + batch_size], [j.request for j in batch],
                          [j.seed for j in batch])
        seconds += time.perf_counter() - start
        edited.append(out.images)
        masks.append(out.masks)
    edit, mask = torch.cat(edited), torch.cat(masks)
    flip = flip_scores(judge, edit, attribute, targets)
    result = {
        "n": len(jobs), "attribute": attribute, "editor": editor.describe(),
        "flip_rate": float((flip > 0.5).float().mean()), "mean_flip_score": float(flip.mean()),
        "outside_change": float(outside_mask_change(source, edit, mask).mean()),
        "mask_fraction": float(mask.mean()), "seconds_per_image": seconds / len(jobs),
        "threads": torch.get_num_threads(),
    }
    if with_truth:
        gt, person = ground_truth([data.table.iloc[j.row].to_dict() for j in jobs], attribute)
        result.update(_truth_metrics(judge, source, edit, mask, gt, person, attribute, targets))
    return result


def _truth_metrics(judge: Any, source: Tensor, edit: Tensor, mask: Tensor, gt: Tensor,
                   person: Tensor, attribute: str, targets: list[str]) -> dict[str, float]:
    err_edit = _masked_mean((edit - gt).abs(), person)
    err_src = _masked_mean((source - gt).abs(), person)
    inter = (mask * person).sum(dim=(1, 2, 3))
    union = ((mask + person) > 0).float().sum(dim=(1, 2, 3)).clamp_min(1.0)
    return {
        "gt_flip_rate": float((flip_scores(judge, gt, attribute, targets) > 0.5).float().mean()),
        "person_error_edit": float(err_edit.mean()), "person_error_source": float(err_src.mean()),
        "person_error_ratio": float(err_edit.mean() / err_src.mean().clamp_min(1e-12)),
        "mask_iou": float((inter / union).mean()),
        "mask_recall": float((inter / person.sum(dim=(1, 2, 3)).clamp_min(1.0)).mean()),
    }


def main(argv: list[str] | None = None) -> int:
    from bias.commands.counterfactuals import editor_params
    from bias.editing import create_editor

    p = argparse.ArgumentParser(prog="python -m bias.editing.evaluate",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--world", required=True)
    p.add_argument("--editor", required=True, help="world editor folder (train-editor output)")
    p.add_argument("--attribute", default="gender")
    p.add_argument("-n", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    for flag in ("steps", "encode_ratio", "guidance", "mask_threshold", "mask_draws"):
        setattr(args, flag, None)
    editor = create_editor("diffedit", path=args.editor, **editor_params(args))
    result = evaluate_world_edits(editor, args.world, args.attribute, n=args.n, seed=args.seed)
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
