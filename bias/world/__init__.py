"""The synthetic world: small scenes with planted, known social bias (no downloads).

A person figure whose groups are visible (``tone``: skin colour; ``gender``: silhouette)
stands next to a context object (pleasant or unpleasant kind), in a scene (office = career,
home = family), with a small neutral object (the null pair). Biases of chosen strength beta
tie groups to concepts in the training images; the stimuli show each concept alone. The world
is both the built-in demo data and a calibration of the method: the pipeline should find the
planted associations and stay quiet on the null and crossed tests.

Entry points: :func:`generate_world` (all files), :func:`render_scene` with
:class:`SceneParams` (one image, re-rendered from a metadata row), :func:`flip_attribute`
(ground-truth counterfactual of a scene), :func:`render_person` / :func:`person_mask`.
"""

from bias.world.catalog import SHIPPED_CATALOG, planted_beta, world_catalog, write_catalog
from bias.world.generate import generate_world, train_scene
from bias.world.scene import (
    SceneParams,
    flip_attribute,
    person_mask,
    render_person,
    render_scene,
)
from bias.world.spec import ATTRIBUTES, BIASES, CONCEPTS, DEFAULT_BIASES, classes, resolve_biases
from bias.world.stimulus_sets import stimulus_scenes

__all__ = [
    "ATTRIBUTES",
    "BIASES",
    "CONCEPTS",
    "DEFAULT_BIASES",
    "SHIPPED_CATALOG",
    "SceneParams",
    "classes",
    "flip_attribute",
    "generate_world",
    "person_mask",
    "planted_beta",
    "render_person",
    "render_scene",
    "resolve_biases",
    "stimulus_scenes",
    "train_scene",
    "world_catalog",
    "write_catalog",
]
