"""Quality control of edits: did the attribute flip, and did anything else change?

- A *judge* gives, for each image, the probability of every value of every protected attribute.
  On a synthetic world it is :class:`PixelJudge`, a small CNN trained on the world's own labels
  (its held-out accuracy is recorded: a weak judge makes flip rates meaningless); on photos it
  is :class:`ClipJudge`, open_clip zero-shot with "a photo of a {value}" prompts.
- The *flip score* of an edit is the judge's probability of the target value on the edited
  image; the *outside change* is the mean absolute pixel change (in [0, 1] units, over channels)
  where the mask is 0.
- :func:`review` drops edits under ``min_flip`` (``not_flipped``) or over
  ``max_outside_change`` (``outside_change``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from bias.io import atomic_file, read_folder_meta, write_json

log = logging.getLogger(__name__)

JUDGE_WEIGHTS = "judge.safetensors"
JUDGE_META = "judge.json"


@dataclass(frozen=True)
class QAThresholds:
    min_flip: float = 0.5            # judge probability of the target value
    max_outside_change: float = 0.02  # mean |change| outside the mask, pixels in [0, 1]

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


class PixelJudge(nn.Module):
    """Small CNN, one softmax head per protected attribute; input (B, 3, H, W) in [0, 1]."""

    def __init__(self, attributes: dict[str, list[str]], width: int = 16):
        super().__init__()
        self.attributes = {k: list(v) for k, v in attributes.items()}
        self.width = width
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, padding=1, stride=2), nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(),
            nn.AdaptiveMaxPool2d(1), nn.Flatten())
        self.heads = nn.ModuleDict({a: nn.Linear(2 * width, len(v))
                                    for a, v in self.attributes.items()})

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        """{attribute: logits (B, n_values)}."""
        h = self.features(x * 2.0 - 1.0)
        return {a: head(h) for a, head in self.heads.items()}

    @torch.no_grad()
    def probabilities(self, images: Tensor) -> dict[str, Tensor]:
        """{attribute: (B, n_values) probabilities}."""
        return {a: logits.softmax(-1) for a, logits in self.eval()(images).items()}


def _labels(table: Any, attributes: dict[str, list[str]]) -> dict[str, Tensor]:
    return {a: torch.tensor([vals.index(str(v)) for v in table[a]], dtype=torch.long)
            for a, vals in attributes.items()}


def random_shift(images: Tensor, max_shift: int, gen: torch.Generator) -> Tensor:
    """Each image translated by up to ``max_shift`` pixels (edge padding): the judge must not
    tie an attribute to a position."""
    if max_shift <= 0:
        return images
    n, _, h, w = images.shape
    padded = nn.functional.pad(images, (max_shift,) * 4, mode="replicate")
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen).tolist()
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen).tolist()
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def train_pixel_judge(images: Tensor, table: Any, attributes: dict[str, list[str]], *,
                      steps: int = 300, batch_size: int = 64, lr: float = 3e-3,
                      val_fraction: float = 0.2, max_shift: int = 2,
                      seed: int = 0) -> tuple[PixelJudge, dict]:
    """Fit a :class:`PixelJudge` on ``images`` (N, 3, H, W) with labels from ``table`` (one
    column per attribute), with random shifts of up to ``max_shift`` pixels; returns it and a
    report with held-out accuracy per attribute."""
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    labels = _labels(table, attributes)
    perm = torch.randperm(len(images), generator=gen)
    n_val = round(val_fraction * len(images)) if len(images) >= 10 else 0
    val, train = perm[:n_val], perm[n_val:]
    judge = PixelJudge(attributes)
    opt = torch.optim.Adam(judge.parameters(), lr=lr)
    judge.train()
    for _ in tqdm(range(steps), desc="train judge", unit="step", leave=False):
        idx = train[torch.randint(0, len(train), (min(batch_size, len(train)),), generator=gen)]
        logits = judge(random_shift(images[idx], max_shift, gen))
        loss = sum(nn.functional.cross_entropy(logits[a], labels[a][idx]) for a in attributes)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    judge.eval()
    report: dict[str, Any] = {"steps": steps, "seed": seed, "max_shift": max_shift,
                              "n_train": len(train),
                              "n_val": n_val, "val_accuracy": {}}
    if n_val:
        probs = judge.probabilities(images[val])
        for a in attributes:
            acc = float((probs[a].argmax(1) == labels[a][val]).float().mean())
            report["val_accuracy"][a] = acc
            if acc < 0.9:
                log.warning("judge accuracy for '%s' is only %.2f: flip scores are unreliable",
                            a, acc)
    return judge, report


def save_pixel_judge(judge: PixelJudge, report: dict[str, Any],
                     folder: str | os.PathLike[str]) -> None:
    """Write ``judge.safetensors`` then ``judge.json`` into ``folder``, each atomically (plain
    files, so a counterfactual folder stays a clean ImageFolder)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    with atomic_file(folder / JUDGE_WEIGHTS) as tmp:
        save_file({k: v.contiguous() for k, v in judge.state_dict().items()}, str(tmp))
    write_json(folder / JUDGE_META, {"attributes": judge.attributes, "width": judge.width,
                                     "report": report})


def load_pixel_judge(path: str | os.PathLike[str]) -> tuple[PixelJudge, dict[str, Any]]:
    from safetensors.torch import load_file

    d = Path(path)
    meta = read_folder_meta(d, "judge", (JUDGE_WEIGHTS, JUDGE_META), JUDGE_META,
                            ("attributes", "width"))
    judge = PixelJudge(meta["attributes"], width=int(meta["width"]))
    judge.load_state_dict(load_file(str(d / JUDGE_WEIGHTS)))
    return judge.eval(), meta


class ClipJudge:
    """Zero-shot judge over ``attributes`` ({attr: [value words]}) with a ClipScorer."""

    def __init__(self, scorer: Any, attributes: dict[str, list[str]]):
        self.scorer, self.attributes = scorer, attributes

    def probabilities(self, images: Tensor) -> dict[str, Tensor]:
        return {a: self.scorer.value_scores(images, vals) for a, vals in self.attributes.items()}


def flip_scores(judge: Any, images: Tensor, attribute: str, targets: list[str]) -> Tensor:
    """(B,) judge probability that edited image i shows ``targets[i]`` for ``attribute``."""
    values = judge.attributes[attribute]
    probs = judge.probabilities(images)[attribute]
    idx = torch.tensor([values.index(t) for t in targets])
    return probs.gather(1, idx[:, None]).squeeze(1)


def outside_mask_change(original: Tensor, edited: Tensor, mask: Tensor) -> Tensor:
    """(B,) mean |edited - original| over channels and pixels where ``mask`` (B, 1, H, W) is 0;
    0 when the mask covers everything."""
    outside = (mask < 0.5).to(original.dtype)
    diff = (edited - original).abs().mean(dim=1, keepdim=True) * outside
    return diff.sum(dim=(1, 2, 3)) / outside.sum(dim=(1, 2, 3)).clamp_min(1.0)


def review(flip: Tensor, outside: Tensor, thresholds: QAThresholds) -> list[str]:
    """Per edit: '' when accepted, else the first failed check's name."""
    reasons = []
    for f, o in zip(flip.tolist(), outside.tolist(), strict=True):
        if f < thresholds.min_flip:
            reasons.append("not_flipped")
        elif o > thresholds.max_outside_change:
            reasons.append("outside_change")
        else:
            reasons.append("")
    return reasons
