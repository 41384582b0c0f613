"""What every editor takes and returns, so that counterfactual sets do not care which one runs.

An editor changes one protected attribute of the person in a batch of images. A request carries
every description an editor might need: attribute values (the built-in world editor conditions
on them), source/target prompts (Stable Diffusion DiffEdit) and an instruction
(InstructPix2Pix); each editor reads the fields it understands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import Tensor


@dataclass(frozen=True)
class EditRequest:
    """Edit one image: change ``attribute`` from ``source[attribute]`` to ``target[attribute]``.

    ``source``/``target`` map every protected attribute to its value (before/after the edit).
    """

    attribute: str
    source: dict[str, str]
    target: dict[str, str]
    source_prompt: str = ""
    target_prompt: str = ""
    instruction: str = ""

    @property
    def from_value(self) -> str:
        return self.source[self.attribute]

    @property
    def to_value(self) -> str:
        return self.target[self.attribute]


@dataclass
class EditOutput:
    """``images`` (B, 3, H, W) float in [0, 1], same size as the input; ``masks`` (B, 1, H, W) in
    [0, 1]: where the editor allowed (DiffEdit) or made (InstructPix2Pix) changes."""

    images: Tensor
    masks: Tensor
    extra: dict[str, Any] = field(default_factory=dict)


class Editor(Protocol):
    """A diffusion image editor; ``create_editor(name, **kw)`` builds one."""

    name: str

    def edit(self, images: Tensor, requests: list[EditRequest], seeds: list[int]) -> EditOutput:
        """Edit ``images`` (B, 3, H, W) in [0, 1]; item i uses ``seeds[i]`` for every draw."""
        ...

    def describe(self) -> dict[str, Any]:
        """Editor name, model folder, model hash and every parameter (for provenance)."""
        ...


def generators(seeds: list[int]) -> list[torch.Generator]:
    """One CPU generator per item, so an item's draws do not depend on its batch."""
    return [torch.Generator().manual_seed(int(s)) for s in seeds]


def resize(images: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear, antialiased resize of (B, C, H, W) to ``size`` (H, W); no-op when equal."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    return torch.nn.functional.interpolate(images, size=size, mode="bilinear",
                                           align_corners=False, antialias=True)
