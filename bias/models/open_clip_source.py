"""open_clip models: ``open_clip:<arch>@<file|tag|dir>``, the image tower ``model.visual``.

- ``@<tag>``: a pretrained tag of open_clip's registry (hub or cache);
- ``@<file>``: local weights for the built-in (or ``add_model_config``-registered) ``arch``;
- ``@<dir>``: a folder like a Hugging Face snapshot, ``open_clip_config.json`` + weights, read
  as ``local-dir:<dir>`` (its config, not ``arch``, defines the model).

Preprocessing is the model's own (open_clip's ``preprocess_cfg``). open_clip falls back to its
OpenAI defaults when only a file is given; we instead take the preprocessing of an
``open_clip_config.json`` next to the file, else the one all pretrained tags of ``arch``
share (SigLIP, CLIPA and others differ from the default).
"""

from __future__ import annotations

import difflib
import json
import logging
from pathlib import Path
from typing import Any

from bias.errors import VitbiasError
from bias.models.loaded import LoadedModel, state_dict_sha256
from bias.models.safe_load import WEIGHT_SUFFIXES, check_weights_file
from bias.models.spec import ModelSpec, register_source

log = logging.getLogger(__name__)

CONFIG_NAME = "open_clip_config.json"
_PP_ARGS = {"mean": "image_mean", "std": "image_std", "interpolation": "image_interpolation",
            "resize_mode": "image_resize_mode"}


@register_source("open_clip")
def load_open_clip(spec: ModelSpec, kwargs: dict[str, Any]) -> LoadedModel:
    """Build the open_clip model of ``spec`` and keep its image tower."""
    import open_clip

    assert spec.location is not None and spec.path is not None  # parse_spec requires it
    path, is_tag = spec.path, False
    if path.is_dir():
        for f in path.iterdir():
            if f.suffix.lower() in WEIGHT_SUFFIXES:
                check_weights_file(f)
        if not (path / CONFIG_NAME).is_file():
            raise VitbiasError(f"open_clip folder {path} lacks {CONFIG_NAME}")
        name, pretrained, overrides = f"local-dir:{path}", None, {}
        source = f"{path / CONFIG_NAME}"
    else:
        _check_arch(spec)
        if path.suffix.lower() in WEIGHT_SUFFIXES or path.exists():
            check_weights_file(path)
            pp, source = file_preprocessing(spec.name, path)
            name, pretrained = spec.name, str(path)
            overrides = {_PP_ARGS[k]: v for k, v in pp.items() if k in _PP_ARGS}
        else:
            _check_tag(spec)
            name, pretrained, overrides, is_tag = spec.name, spec.location, {}, True
            source = f"pretrained tag {spec.location}"
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            name, pretrained=pretrained, **overrides, **kwargs)
    except Exception as exc:  # open_clip raises bare RuntimeError/ValueError/hub errors
        hint = (f" (offline, or not in the local cache?) Pass a local file instead: "
                f"open_clip:{spec.name}@/path/to/weights.safetensors"
                if is_tag else "")
        raise VitbiasError(f"cannot load open_clip model {spec.text!r}: "
                           f"{str(exc).splitlines()[0] if str(exc) else exc!r}{hint}") from exc
    visual = model.visual.eval()
    record = {"library": "open_clip", "source": source,
              **{k: list(v) if isinstance(v, tuple) else v
                 for k, v in visual.preprocess_cfg.items()},
              "transform": repr(preprocess)}
    identity = {"arch": name if pretrained is None else spec.name, "kwargs": kwargs}
    return LoadedModel(spec=spec.text, source="open_clip", family="open_clip", arch=spec.name,
                       module=visual, transform=preprocess, preprocessing=record,
                       weights_sha256=state_dict_sha256(visual), identity=identity)


def file_preprocessing(arch: str, weights: Path) -> tuple[dict[str, Any], str]:
    """Preprocessing for ``arch`` loaded from a bare weights file, and where it came from."""
    from open_clip import pretrained as registry

    sibling = weights.parent / CONFIG_NAME
    if sibling.is_file():
        try:
            doc = json.loads(sibling.read_text())
        except json.JSONDecodeError as exc:
            raise VitbiasError(f"{sibling} is not valid JSON: {exc}") from exc
        return dict(doc.get("preprocess_cfg", {})), str(sibling)
    configs = [registry.get_pretrained_cfg(arch, t)
               for t in registry.list_pretrained_tags_by_model(arch)]
    distinct = {tuple((k, _frozen(c.get(k))) for k in _PP_ARGS) for c in configs}
    if len(distinct) == 1:
        return {k: v for k, v in distinct.pop() if v is not None}, f"pretrained tags of {arch}"
    why = "has no pretrained tags" if not configs else "has tags that disagree on it"
    log.warning("open_clip arch %s %s; using open_clip's default preprocessing for %s "
                "(put an %s next to it to choose)", arch, why, weights, CONFIG_NAME)
    return {}, "open_clip default"


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def _check_arch(spec: ModelSpec) -> None:
    import open_clip

    known = open_clip.list_models()
    if spec.name not in known and spec.name.replace("/", "-") not in known:
        close = difflib.get_close_matches(spec.name, known, n=5)
        raise VitbiasError(f"unknown open_clip arch {spec.name!r} in {spec.text!r}"
                           + (f"; did you mean {', '.join(close)}?" if close else ""))


def _check_tag(spec: ModelSpec) -> None:
    from open_clip import pretrained as registry

    if not registry.is_pretrained_cfg(spec.name, spec.location or ""):
        tags = registry.list_pretrained_tags_by_model(spec.name)
        looks_like_path = any(c in (spec.location or "") for c in "/\\.")
        what = "file or folder not found" if looks_like_path else "unknown pretrained tag"
        raise VitbiasError(f"{spec.text}: {what} {spec.location!r}; tags of {spec.name}: "
                           f"{', '.join(tags) or 'none'}")

