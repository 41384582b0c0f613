"""The editor registry: names, folders, parameters."""

from __future__ import annotations

import pytest

from bias.editing import EDITORS, create_editor, list_editors
from bias.errors import VitbiasError


def test_known_editors():
    assert list_editors() == ["diffedit", "instruct-pix2pix"] == sorted(EDITORS)


def test_unknown_editor_lists_the_known_ones(tmp_path):
    with pytest.raises(VitbiasError, match="unknown editor 'dall-e'; known editors: diffedit, "
                                           "instruct-pix2pix"):
        create_editor("dall-e", path=tmp_path)


@pytest.mark.parametrize("name", ["diffedit", "instruct-pix2pix"])
def test_missing_or_unrecognised_folder(name, tmp_path):
    with pytest.raises(VitbiasError, match="not found"):
        create_editor(name, path=tmp_path / "missing")
    with pytest.raises(VitbiasError, match=r"model_index\.json"):
        create_editor(name, path=tmp_path)
    with pytest.raises(VitbiasError, match="needs path"):
        create_editor(name)


def test_unknown_diffedit_parameter_is_named(tiny_sd_dir):
    with pytest.raises(VitbiasError, match=r"unknown DiffEdit parameter\(s\) \['strength'\]"):
        create_editor("diffedit", path=tiny_sd_dir, strength=0.5)
