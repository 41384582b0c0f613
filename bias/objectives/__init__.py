"""Training objectives by registry name (timm ``create_model`` style).

``create_objective(name, backbone, **kw)`` wraps a timm ViT in the objective's module; see
:mod:`bias.objectives.base` for the interface. Modules are imported on first use, so listing
names is cheap and an unknown name fails before torch or lightly load.

- ``supervised`` (discriminative, supervised): cross-entropy on the class labels, timm head;
- ``simclr`` (discriminative, contrastive): NT-Xent between two views (lightly's loss);
- ``moco_v3`` (discriminative, joint-embedding): InfoNCE of predictor outputs against keys
  of a momentum encoder;
- ``dino`` (discriminative, joint-embedding): self-distillation from a momentum teacher;
- ``mae`` (generative, masked-modelling): MSE on masked patches, light transformer decoder;
- ``simmim`` (generative, masked-modelling): L1 on masked patches, mask token, linear decoder.
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING, Any

from bias.errors import VitbiasError

if TYPE_CHECKING:
    from bias.objectives.base import Objective

_REGISTRY: dict[str, tuple[str, str]] = {
    "supervised": ("bias.objectives.supervised", "Supervised"),
    "simclr": ("bias.objectives.simclr", "SimCLR"),
    "moco_v3": ("bias.objectives.moco_v3", "MoCoV3"),
    "dino": ("bias.objectives.dino", "DINO"),
    "mae": ("bias.objectives.mae", "MAE"),
    "simmim": ("bias.objectives.simmim", "SimMIM"),
}


def list_objectives() -> list[str]:
    """Registered objective names."""
    return list(_REGISTRY)


def objective_class(name: str) -> type[Objective]:
    """The class registered as ``name``; unknown names list the known ones."""
    try:
        module, cls = _REGISTRY[name]
    except KeyError:
        raise VitbiasError(f"unknown objective '{name}'; known objectives: "
                           f"{', '.join(_REGISTRY)}") from None
    return getattr(importlib.import_module(module), cls)


def create_objective(name: str, backbone: Any, **kwargs: Any) -> Objective:
    """Build objective ``name`` around ``backbone`` (a timm VisionTransformer).

    ``kwargs`` are the objective's hyper-parameters (e.g. ``temperature``, ``mask_ratio``)
    and ``seed`` (its mask generator); an unknown keyword is an error naming the accepted ones.
    """
    cls = objective_class(name)
    accepted = [p for p in inspect.signature(cls.__init__).parameters
                if p not in ("self", "backbone")]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise VitbiasError(f"objective '{name}' has no argument {', '.join(unknown)}; "
                           f"accepted: {', '.join(accepted)}")
    try:
        return cls(backbone, **kwargs)
    except (TypeError, ValueError) as exc:
        raise VitbiasError(f"objective '{name}': bad arguments {kwargs}: {exc}") from exc


__all__ = ["create_objective", "list_objectives", "objective_class"]
