"""timm models: ``timm:<name>`` (hub or cache) and ``timm:<name>@<file>`` (local weights).

Both go through timm's own pretrained path (``create_model(pretrained=True)``) so that the
model's ``checkpoint_filter_fn`` (key remapping, position-embedding resampling) and timm's
classifier adaptation apply. Models are built with ``num_classes=0``: embeddings never need
the classifier, and a head of another size in the file is then dropped rather than failing.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
from collections.abc import Iterator
from typing import Any

from torch import nn

from bias.errors import VitbiasError
from bias.models.loaded import LoadedModel, state_dict_sha256
from bias.models.safe_load import check_weights_file
from bias.models.spec import ModelSpec, register_source

log = logging.getLogger(__name__)

DATA_CONFIG_KEYS = ("input_size", "interpolation", "mean", "std", "crop_pct", "crop_mode")


@register_source("timm")
def load_timm(spec: ModelSpec, kwargs: dict[str, Any]) -> LoadedModel:
    """Build ``spec.name`` with timm's pretrained weights or those of ``spec.path``."""
    import timm

    if not timm.is_model(spec.name):
        close = difflib.get_close_matches(spec.name, timm.list_models(), n=5)
        raise VitbiasError(f"unknown timm model {spec.name!r} in {spec.text!r}"
                           + (f"; did you mean {', '.join(close)}?" if close else ""))
    kwargs = {"num_classes": 0, **kwargs}
    if spec.path is not None:
        path = check_weights_file(spec.path)
        # custom_load=False: some default tags (JAX .npz) route files to a custom loader.
        overlay = {"file": str(path), "custom_load": False}
        where = str(path)
        try:
            with recording_loads() as loads:
                model = timm.create_model(spec.name, pretrained=True,
                                          pretrained_cfg_overlay=overlay, **kwargs)
        except (RuntimeError, ValueError, KeyError, TypeError, AssertionError) as exc:
            raise VitbiasError(f"cannot load weights {path} into timm model {spec.name}: "
                               f"{exc}") from exc
    else:
        where = "timm's pretrained weights"
        try:
            with recording_loads() as loads:
                model = timm.create_model(spec.name, pretrained=True, **kwargs)
        except Exception as exc:  # hub, network and cache errors come in many types
            raise VitbiasError(
                f"cannot get pretrained weights for timm model {spec.name!r} (offline, or not "
                f"in the local cache?): {str(exc).splitlines()[0] if str(exc) else exc!r}. "
                f"Pass a local weights file instead: timm:{spec.name}@/path/to/"
                f"weights.safetensors") from exc
    # Hub weights may come through a model's custom loader (JAX .npz) that bypasses
    # load_state_dict; a local file always goes through it (custom_load=False above).
    check_complete_load(model, loads, f"{spec.text} ({where})", required=spec.path is not None)
    model.eval()
    transform, record = timm_preprocessing(model)
    identity = {"arch": spec.name, "kwargs": kwargs}
    return LoadedModel(spec=spec.text, source="timm", family="timm", arch=spec.name,
                       module=model, transform=transform, preprocessing=record,
                       weights_sha256=state_dict_sha256(model), identity=identity)


@contextlib.contextmanager
def recording_loads() -> Iterator[list[tuple[int, Any]]]:
    """Record ``(id(module), incompatible_keys)`` of every ``load_state_dict`` call.

    timm loads non-strictly once it drops a classifier and only logs missing keys; a file
    whose keys do not match would then leave the backbone randomly initialised without an
    error. Recording the result lets :func:`check_complete_load` refuse that.
    """
    original = nn.Module.load_state_dict
    calls: list[tuple[int, Any]] = []

    def recording(self: nn.Module, *args: Any, **kw: Any) -> Any:
        result = original(self, *args, **kw)
        calls.append((id(self), result))
        return result

    nn.Module.load_state_dict = recording  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        nn.Module.load_state_dict = original  # type: ignore[method-assign]


def check_complete_load(model: nn.Module, calls: list[tuple[int, Any]], where: str,
                        required: bool = True) -> None:
    """Every weight of ``model`` must come from the file, and every tensor must be used."""
    results = [r for i, r in calls if i == id(model)]
    if not results and required:
        raise VitbiasError(f"{where}: timm loaded no weights into the model")
    for result in results:
        if result.missing_keys or result.unexpected_keys:
            raise VitbiasError(
                f"{where} does not match the architecture: missing "
                f"{list(result.missing_keys)[:5]}, unexpected {list(result.unexpected_keys)[:5]}")


def timm_preprocessing(model: nn.Module, data_config: dict[str, Any] | None = None
                       ) -> tuple[Any, dict[str, Any]]:
    """timm's eval transform for ``model`` and its data config as a JSON-able dict.

    ``data_config`` (e.g. from a checkpoint's ``model.json``) wins over the model's resolved
    one. A model built at another fixed image size than its pretrained config says (e.g.
    ``img_size=32``) gets that size, as it cannot run at any other.
    """
    from timm.data import create_transform, resolve_model_data_config

    config = dict(resolve_model_data_config(model))
    config.update(data_config or {})
    config = {k: config[k] for k in DATA_CONFIG_KEYS if k in config}
    img_size = getattr(getattr(model, "patch_embed", None), "img_size", None)
    if img_size and not getattr(model, "dynamic_img_size", False):
        if tuple(config["input_size"][1:]) != tuple(img_size):
            log.info("model input size is %s; using it instead of the configured %s",
                     tuple(img_size), tuple(config["input_size"][1:]))
            config["input_size"] = (config["input_size"][0], *img_size)
    transform = create_transform(**config, is_training=False)
    record = {"library": "timm",
              **{k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
              "transform": repr(transform)}
    return transform, record
