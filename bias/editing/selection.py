"""Which real photos to edit, and how to phrase the edit.

- **Term pairs** (``data/term_pairs.csv``, columns ``attribute,a,b``): gendered words such as
  man/woman, he/she, king/queen. :func:`swap_terms` rewrites a caption into the counterfactual
  prompt: whole words only, case kept (``Man`` -> ``Woman``, ``HE`` -> ``SHE``), in one pass so a
  swapped word is never swapped back, in both directions or one.
- **Zero-shot scores** from an open_clip model with local weights (:class:`ClipScorer`): the
  probability that a photo shows a person (a prompt ensemble for "person" against ensembles for
  other subjects) and the probabilities of each attribute value ("a photo of a man" vs "a photo
  of a woman"). :func:`select_people` keeps photos that show a person and whose attribute value
  is clear enough to name the edit's source.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor

from bias.errors import VitbiasError
from bias.stimuli import DATA_DIR

log = logging.getLogger(__name__)

DEFAULT_TERM_PAIRS = DATA_DIR / "term_pairs.csv"
DIRECTIONS = ("both", "a-to-b", "b-to-a")
PERSON_PROMPTS = ("a photo of a person", "a photo of a man", "a photo of a woman",
                  "a photo of people", "a portrait of a person")
OTHER_SUBJECTS = {
    "object": ("a photo of an object", "a photo of a thing"),
    "animal": ("a photo of an animal", "a photo of a pet"),
    "landscape": ("a photo of a landscape", "a photo of nature"),
    "building": ("a photo of a building", "a photo of a room"),
    "food": ("a photo of food", "a photo of a meal"),
    "vehicle": ("a photo of a vehicle", "a photo of a car"),
}
VALUE_TEMPLATES = ("a photo of a {}", "a cropped photo of a {}", "a close-up photo of a {}")


def load_term_pairs(path: str | os.PathLike[str] = DEFAULT_TERM_PAIRS,
                    attribute: str | None = None) -> list[tuple[str, str]]:
    """(a, b) word pairs of ``path`` (all attributes, or only ``attribute``'s rows)."""
    path = Path(path)
    if not path.is_file():
        raise VitbiasError(f"term-pair table not found: {path}")
    table = pd.read_csv(path, comment="#", dtype=str, skipinitialspace=True)
    for col in ("attribute", "a", "b"):
        if col not in table.columns:
            raise VitbiasError(f"term-pair table {path} lacks column '{col}'")
    if table[["a", "b"]].isna().any().any():
        raise VitbiasError(f"term-pair table {path} has empty terms")
    if attribute is not None:
        table = table[table["attribute"] == attribute]
        if table.empty:
            raise VitbiasError(f"term-pair table {path} has no rows for attribute "
                               f"'{attribute}'")
    pairs = zip(table["a"], table["b"], strict=True)
    return [(a.strip().lower(), b.strip().lower()) for a, b in pairs]


def term_mapping(pairs: list[tuple[str, str]], direction: str = "both") -> dict[str, str]:
    """Lower-case word -> replacement; a word listed twice keeps its first partner."""
    if direction not in DIRECTIONS:
        raise VitbiasError(f"unknown direction '{direction}'; choose one of {DIRECTIONS}")
    mapping: dict[str, str] = {}
    for a, b in pairs:
        if direction in ("both", "a-to-b"):
            mapping.setdefault(a, b)
        if direction in ("both", "b-to-a"):
            mapping.setdefault(b, a)
    return mapping


def _match_case(word: str, template: str) -> str:
    if len(template) > 1 and template.isupper():
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def swap_terms(text: str, pairs: list[tuple[str, str]], direction: str = "both") -> str:
    """``text`` with every whole-word term of ``pairs`` replaced by its partner, case kept."""
    mapping = term_mapping(pairs, direction)
    if not mapping:
        return text
    words = sorted(mapping, key=len, reverse=True)  # longest first: "women" before "men"
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)
    return pattern.sub(lambda m: _match_case(mapping[m.group(0).lower()], m.group(0)), text)


def value_prompt(value: str) -> str:
    """The default caption of a photo whose attribute is ``value`` ("a photo of a man")."""
    return VALUE_TEMPLATES[0].format(value)


def parse_clip_spec(spec: str) -> tuple[str, str | None]:
    """``[open_clip:]ARCH@FILE`` or ``[open_clip:]FOLDER`` (open_clip_config.json + weights) ->
    (open_clip model name, weights file or None); nothing is downloaded."""
    spec = spec.removeprefix("open_clip:")
    if "@" in spec:
        arch, file = spec.split("@", 1)
        if not Path(file).is_file():
            raise VitbiasError(f"open_clip weights file not found: {file} (from '{spec}'; "
                               "vitbias never downloads weights)")
        return arch, file
    folder = Path(spec)
    if not (folder / "open_clip_config.json").is_file():
        raise VitbiasError(f"open_clip model '{spec}' is neither ARCH@FILE nor a folder with "
                           "open_clip_config.json")
    return f"local-dir:{folder}", None


class ClipScorer:
    """Zero-shot scores of images (B, 3, H, W) in [0, 1] from a local open_clip model."""

    def __init__(self, spec: str, device: str = "cpu"):
        import open_clip

        name, file = parse_clip_spec(spec)
        try:
            model = open_clip.create_model(name, pretrained=file, device=device)
            self.tokenizer = open_clip.get_tokenizer(name)
        except (RuntimeError, ValueError, FileNotFoundError) as exc:
            raise VitbiasError(f"cannot load open_clip model '{spec}': {exc}") from exc
        self.spec, self.device = spec, device
        self.model = model.eval().requires_grad_(False)
        cfg = open_clip.get_model_preprocess_cfg(model)
        size = cfg.get("size", 224)
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.mean = torch.tensor(cfg.get("mean", open_clip.OPENAI_DATASET_MEAN)).view(1, 3, 1, 1)
        self.std = torch.tensor(cfg.get("std", open_clip.OPENAI_DATASET_STD)).view(1, 3, 1, 1)
        self._text_cache: dict[tuple[str, ...], Tensor] = {}

    @torch.no_grad()
    def image_features(self, images: Tensor) -> Tensor:
        """(B, D) unit-norm image embeddings."""
        x = torch.nn.functional.interpolate(images.float(), size=self.size, mode="bicubic",
                                            align_corners=False, antialias=True).clamp(0, 1)
        x = ((x - self.mean) / self.std).to(self.device)
        return torch.nn.functional.normalize(self.model.encode_image(x).float(), dim=-1).cpu()

    @torch.no_grad()
    def ensemble(self, prompts: tuple[str, ...]) -> Tensor:
        """(D,) unit-norm mean of the prompts' text embeddings (a prompt ensemble)."""
        if prompts not in self._text_cache:
            tokens = self.tokenizer(list(prompts)).to(self.device)
            feats = torch.nn.functional.normalize(self.model.encode_text(tokens).float(), dim=-1)
            self._text_cache[prompts] = torch.nn.functional.normalize(feats.mean(0), dim=0).cpu()
        return self._text_cache[prompts]

    def zero_shot(self, images: Tensor, classes: list[tuple[str, ...]]) -> Tensor:
        """(B, C) softmax probabilities of ``classes`` (each a prompt ensemble)."""
        text = torch.stack([self.ensemble(c) for c in classes])  # (C, D)
        scale = float(self.model.logit_scale.exp().clamp(max=100.0))
        return (scale * self.image_features(images) @ text.T).softmax(dim=-1)

    def person_scores(self, images: Tensor) -> Tensor:
        """(B,) probability that each image shows a person rather than another subject."""
        return self.zero_shot(images, [PERSON_PROMPTS, *OTHER_SUBJECTS.values()])[:, 0]

    def value_scores(self, images: Tensor, values: list[str]) -> Tensor:
        """(B, V) probabilities of each attribute value ("a photo of a {value}" ensembles)."""
        return self.zero_shot(images, [tuple(t.format(v) for t in VALUE_TEMPLATES)
                                       for v in values])

    def describe(self) -> dict[str, Any]:
        return {"clip": self.spec, "person_prompts": PERSON_PROMPTS,
                "other_subjects": OTHER_SUBJECTS, "value_templates": VALUE_TEMPLATES}


def select_people(scorer: ClipScorer, images: Tensor, values: list[str],
                  min_person: float = 0.5, min_confidence: float = 0.6) -> pd.DataFrame:
    """One row per image: ``person_score``, ``value`` (most likely attribute value),
    ``confidence`` (its probability) and ``selected`` (a person, and a clear value)."""
    person = scorer.person_scores(images)
    probs = scorer.value_scores(images, values)
    conf, idx = probs.max(dim=1)
    return pd.DataFrame({
        "person_score": person.numpy(),
        "value": [values[i] for i in idx.tolist()],
        "confidence": conf.numpy(),
        "selected": ((person >= min_person) & (conf >= min_confidence)).numpy(),
    })
