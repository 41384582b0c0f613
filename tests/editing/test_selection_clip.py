"""Zero-shot person/attribute scores from a tiny local open_clip model, checked by hand."""

from __future__ import annotations

import open_clip
import pytest
import torch

from bias.editing.selection import (
    OTHER_SUBJECTS,
    PERSON_PROMPTS,
    VALUE_TEMPLATES,
    ClipScorer,
    parse_clip_spec,
    select_people,
)
from bias.errors import VitbiasError


def manual_zero_shot(folder, images, classes):
    """The same zero-shot probabilities, computed directly with open_clip."""
    model = open_clip.create_model(f"local-dir:{folder}").eval()
    tok = open_clip.get_tokenizer(f"local-dir:{folder}")
    with torch.no_grad():
        img = model.encode_image((images - 0.5) / 0.25)  # images already at 16 px
        img = img / img.norm(dim=-1, keepdim=True)
        centroids = []
        for prompts in classes:
            t = model.encode_text(tok(list(prompts)))
            t = t / t.norm(dim=-1, keepdim=True)
            c = t.mean(0)
            centroids.append(c / c.norm())
        logits = model.logit_scale.exp() * img @ torch.stack(centroids).T
    return logits.softmax(-1)


def test_scores_match_a_direct_open_clip_computation(tiny_clip_dir):
    scorer = ClipScorer(str(tiny_clip_dir))
    x = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    person = scorer.person_scores(x)
    expected = manual_zero_shot(tiny_clip_dir, x, [PERSON_PROMPTS, *OTHER_SUBJECTS.values()])
    assert torch.allclose(person, expected[:, 0], atol=1e-5)
    values = scorer.value_scores(x, ["man", "woman"])
    expected = manual_zero_shot(tiny_clip_dir, x, [tuple(t.format(v) for t in VALUE_TEMPLATES)
                                                   for v in ("man", "woman")])
    assert torch.allclose(values, expected, atol=1e-5)
    assert torch.allclose(values.sum(1), torch.ones(4))


def test_select_people_applies_both_thresholds(tiny_clip_dir):
    scorer = ClipScorer(f"open_clip:{tiny_clip_dir}")
    x = torch.rand(6, 3, 24, 24, generator=torch.Generator().manual_seed(1))
    table = select_people(scorer, x, ["man", "woman"], min_person=0.0, min_confidence=0.0)
    assert list(table.columns) == ["person_score", "value", "confidence", "selected"]
    assert table["selected"].all() and set(table["value"]) <= {"man", "woman"}
    cut = float(table["person_score"].median())
    strict = select_people(scorer, x, ["man", "woman"], min_person=cut, min_confidence=0.0)
    assert strict["selected"].tolist() == (table["person_score"] >= cut).tolist()
    none = select_people(scorer, x, ["man", "woman"], min_person=0.0, min_confidence=1.01)
    assert not none["selected"].any()


def test_clip_specs_never_download(tmp_path):
    with pytest.raises(VitbiasError, match="never downloads"):
        parse_clip_spec("ViT-B-32@openai")
    with pytest.raises(VitbiasError, match=r"open_clip_config\.json"):
        parse_clip_spec(str(tmp_path))
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"x")
    assert parse_clip_spec(f"open_clip:ViT-B-32@{weights}") == ("ViT-B-32", str(weights))
