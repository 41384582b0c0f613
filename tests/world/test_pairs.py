"""Stimulus sets are matched: concept i of a category differs from its partner only there."""

from __future__ import annotations

import numpy as np

from bias.world import person_mask, render_scene, stimulus_scenes
from bias.world.spec import CONCEPTS


def _by_category(n: int = 8, seed: int = 0):
    out: dict[str, dict[int, dict]] = {}
    for category, concept, i, params in stimulus_scenes(n, seed, 32):
        out.setdefault(category, {}).setdefault(i, {})[concept] = params
    return out


def test_every_concept_has_n_images_and_seeds_differ() -> None:
    sets = _by_category()
    assert set(sets) == set(CONCEPTS)
    for category, items in sets.items():
        assert len(items) == 8
        assert all(set(v) == set(CONCEPTS[category]) for v in items.values())
    other = _by_category(seed=1)
    assert other["tone"][0]["light"] != sets["tone"][0]["light"]


def test_person_pairs_differ_only_on_the_person() -> None:
    for category in ("tone", "gender", "tone-gender"):
        for group in _by_category()[category].values():
            scenes = list(group.values())
            ref = np.asarray(render_scene(scenes[0]))
            for other in scenes[1:]:
                diff = np.any(np.asarray(render_scene(other)) != ref, axis=-1)
                assert not (diff & ~(person_mask(scenes[0]) | person_mask(other))).any()


def test_tone_sets_are_gender_balanced_and_vice_versa() -> None:
    sets = _by_category()
    genders = [g["light"].gender for g in sets["tone"].values()]
    tones = [g["male"].tone for g in sets["gender"].values()]
    assert genders.count("female") == genders.count("male")
    assert tones.count("light") == tones.count("dark")


def test_object_and_scene_pairs_share_everything_but_the_concept() -> None:
    sets = _by_category()
    for category, field in (("valence", "obj"), ("null", "null"), ("career", "scene")):
        for group in sets[category].values():
            a, b = group.values()
            assert getattr(a, field) != getattr(b, field)
            assert a.replace(**{field: getattr(b, field)}) == b
