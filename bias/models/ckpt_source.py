"""vitbias checkpoints: ``ckpt:<dir>`` (``model.safetensors`` + ``model.json``)."""

from __future__ import annotations

import logging
from typing import Any

from bias.checkpoint import load_checkpoint
from bias.errors import VitbiasError
from bias.models.loaded import LoadedModel, state_dict_sha256
from bias.models.spec import ModelSpec, register_source
from bias.models.timm_source import timm_preprocessing

log = logging.getLogger(__name__)


@register_source("ckpt")
def load_ckpt(spec: ModelSpec, kwargs: dict[str, Any]) -> LoadedModel:
    """Rebuild the checkpoint's timm model; preprocessing from ``model.json`` ``data_config``.

    The checkpoint's own ``model_kwargs`` define the network, so extra constructor kwargs
    are refused rather than silently ignored.
    """
    if kwargs:
        raise VitbiasError(f"{spec.text}: a checkpoint defines its own model arguments; "
                           f"got extra {sorted(kwargs)}")
    assert spec.path is not None  # parse_spec sets location = name for ckpt
    model, meta = load_checkpoint(spec.path)
    for warning in meta.get("warnings") or []:  # recorded by training: no bias != no training
        log.warning("%s was flagged when it was trained: %s", spec.text, warning)
    data_config = meta.get("data_config")
    if data_config is not None and not isinstance(data_config, dict):
        raise VitbiasError(f"checkpoint {spec.path / 'model.json'}: field data_config must be "
                           f"an object, got {type(data_config).__name__}")
    transform, record = timm_preprocessing(model, data_config)
    record["source"] = "model.json data_config" if data_config else "timm resolved"
    identity = {"arch": meta["arch"], "kwargs": meta["model_kwargs"]}
    return LoadedModel(spec=spec.text, source="ckpt", family="timm", arch=meta["arch"],
                       module=model.eval(), transform=transform, preprocessing=record,
                       weights_sha256=state_dict_sha256(model), identity=identity, meta=meta)
