# Helpers shared by the rules: the study grid as a list of model ids, and their inputs.
# Rules only declare; everything that computes lives in the `bias` package.
import functools
import json
import os
import shlex
from pathlib import Path

R = config["results"]
REPORTS = config["reports"]
LOGS = f"{R}/logs"
TRAIN = config["train"]
EDITOR = config["editor"]
ASSOC = config["association"]
EMBED = config["embed"]
DIRECTIONS = ("a-to-b", "b-to-a")
# Which counterfactual folders each training data variant adds to the originals.
CDA_FOLDERS = {"original": (), "1-sided": ("a-to-b",), "2-sided": DIRECTIONS}

WORLDS = config["worlds"]
DATASETS = config["datasets"]
LOADED = {m["name"]: m for m in config["load"]}

if set(WORLDS) & set(DATASETS):
    raise ValueError(
        f"config: names used both as world and dataset: {set(WORLDS) & set(DATASETS)}"
    )
if any(d != "original" for d in TRAIN["data"]) and not EDITOR["enabled"]:
    raise ValueError(
        "config: train.data asks for CDA (1-sided/2-sided) but editor.enabled is false"
    )
if DATASETS and EDITOR["enabled"] and not EDITOR["path"]:
    raise ValueError(
        "config: editing real datasets needs editor.path (a local diffusers model)"
    )
for _m in LOADED.values():
    if _m["dataset"] not in WORLDS and _m["dataset"] not in DATASETS:
        raise ValueError(
            f"config: load entry {_m['name']!r} names unknown dataset {_m['dataset']!r}"
        )


def trained_ids():
    """Model ids of the training grid: trained/<dataset>/<data>/<objective>/<size>/seed<seed>."""
    if not TRAIN["objectives"]:
        return []
    return [
        f"trained/{ds}/{variant}/{obj}/{size}/seed{seed}"
        for ds in list(WORLDS) + list(DATASETS)
        for variant in TRAIN["data"]
        if variant == "original" or WORLDS.get(ds, {}).get("cda", True)
        for obj in TRAIN["objectives"]
        for size in TRAIN["sizes"]
        for seed in TRAIN["seeds"]
    ]


def model_ids():
    return trained_ids() + [f"loaded/{name}" for name in LOADED]


def model_parts(model):
    """('trained', dataset, variant, objective, size, 'seed<N>') or ('loaded', name)."""
    return Path(model).parts


def dataset_of(model):
    kind, name, *_ = model_parts(model)
    return name if kind == "trained" else LOADED[name]["dataset"]


def train_folder(dataset):
    return (
        f"{R}/worlds/{dataset}/train"
        if dataset in WORLDS
        else DATASETS[dataset]["train"]
    )


def stimuli_of(dataset):
    return (
        f"{R}/worlds/{dataset}/stimuli"
        if dataset in WORLDS
        else DATASETS[dataset]["stimuli"]
    )


def catalog_of(dataset):
    return (
        f"{R}/worlds/{dataset}/catalog.yaml"
        if dataset in WORLDS
        else DATASETS[dataset]["catalog"]
    )


def world_inputs(dataset):
    """The world folder a stage depends on (nothing for real datasets: they already exist)."""
    return [f"{R}/worlds/{dataset}/world.json"] if dataset in WORLDS else []


def training_folders(wildcards):
    """ImageFolder folders of one data variant: originals plus its counterfactual sets."""
    ds = wildcards.dataset
    cf = [f"{R}/counterfactuals/{ds}/{d}" for d in CDA_FOLDERS[wildcards.variant]]
    return [train_folder(ds)] + cf


def model_spec(model):
    kind, name, *_ = model_parts(model)
    return LOADED[name]["spec"] if kind == "loaded" else f"ckpt:{checkpoint_dir(model)}"


def model_inputs(wildcards):
    model = wildcards.model
    return (
        [] if model.startswith("loaded/") else [f"{checkpoint_dir(model)}/model.json"]
    )


def quoted(paths):
    return " ".join(shlex.quote(str(p)) for p in paths)


def checkpoint_dir(model):
    """Folder of a trained model id (``trained/<rest>`` -> ``<results>/models/<rest>``)."""
    return str(Path(R, "models", *model_parts(model)[1:]))


def trained_model_jsons():
    return [f"{checkpoint_dir(m)}/model.json" for m in trained_ids()]


def train_inputs(wildcards):
    """The world and the counterfactual sets a training job reads."""
    ds = wildcards.dataset
    cf = [
        f"{R}/counterfactuals/{ds}/{d}/edits.json"
        for d in CDA_FOLDERS[wildcards.variant]
    ]
    return world_inputs(ds) + cf


def editor_path(wildcards):
    """A local diffusers model for real data, else the editor trained on the world."""
    return EDITOR["path"] or f"{R}/editors/{wildcards.dataset}"


def editor_inputs(wildcards):
    return [] if EDITOR["path"] else [f"{R}/editors/{wildcards.dataset}/editor.json"]


def optional_flag(flag, value):
    return f"{flag} {value}" if value not in (None, "", False) else ""


@functools.cache
def original_image_count(dataset):
    """Training images of the original data: the world's size, or counted in the folder."""
    if dataset in WORLDS:
        return WORLDS[dataset]["train"]
    return sum(len(files) for _, _, files in os.walk(DATASETS[dataset]["train"]))


def equal_steps_flag(wildcards):
    """--samples-per-epoch for CDA variants under train.equal_steps, else nothing."""
    if wildcards.variant == "original" or not TRAIN["equal_steps"]:
        return ""
    return f"--samples-per-epoch {original_image_count(wildcards.dataset)}"
