"""Diffusion image editors for counterfactual data augmentation (CDA).

Editors are built by registry name, ``create_editor(name, path=DIR, **params)``:

- ``diffedit``: DiffEdit (mask from the disagreement of two conditions, DDIM inversion, masked
  DDIM decoding; :mod:`bias.editing.diffedit`) on the model in ``path``: the built-in world
  editor trained by ``vitbias train-editor`` (``editor.json``;
  :mod:`bias.editing.conditional_unet`, :mod:`bias.editing.world_editor`) or a Stable
  Diffusion folder in diffusers layout (``model_index.json``; :mod:`bias.editing.sd`), told
  apart by the files present.
- ``instruct-pix2pix``: diffusers' InstructPix2Pix from a local folder
  (:mod:`bias.editing.pix2pix`).

Edits are judged by :mod:`bias.editing.judge`, real photos chosen and prompts rewritten by
:mod:`bias.editing.selection`, and whole counterfactual sets written by
:mod:`bias.editing.counterfactuals`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bias.editing.base import Editor, EditOutput, EditRequest
from bias.errors import VitbiasError

__all__ = ["EDITORS", "EditOutput", "EditRequest", "Editor", "create_editor", "list_editors"]


def _diffedit(path: str | os.PathLike[str], **params: Any) -> Editor:
    from bias.editing.conditional_unet import is_world_editor
    from bias.editing.world_editor import WorldDiffEditEditor

    folder = Path(path)
    if not folder.is_dir():
        raise VitbiasError(f"editor folder not found: {folder}")
    if is_world_editor(folder):
        return WorldDiffEditEditor(folder, **params)
    if (folder / "model_index.json").is_file():
        from bias.editing.sd import SDDiffEditEditor

        return SDDiffEditEditor(folder, **params)
    raise VitbiasError(f"{folder} is neither a vitbias world editor (editor.json) nor a "
                       "diffusers Stable Diffusion folder (model_index.json)")


def _pix2pix(path: str | os.PathLike[str], **params: Any) -> Editor:
    from bias.editing.pix2pix import InstructPix2PixEditor

    return InstructPix2PixEditor(path, **params)


EDITORS: dict[str, Callable[..., Editor]] = {
    "diffedit": _diffedit,
    "instruct-pix2pix": _pix2pix,
}


def list_editors() -> list[str]:
    return sorted(EDITORS)


def create_editor(name: str, **kwargs: Any) -> Editor:
    """Build the editor registered as ``name``; unknown names list the known ones."""
    try:
        factory = EDITORS[name]
    except KeyError:
        raise VitbiasError(f"unknown editor '{name}'; known editors: "
                           f"{', '.join(list_editors())}") from None
    if "path" not in kwargs:
        raise VitbiasError(f"editor '{name}' needs path= (its model folder)")
    return factory(**kwargs)
