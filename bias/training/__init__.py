"""Training ViTs with any registered objective: ``train(TrainConfig(...))``.

- :mod:`bias.training.config` — the run's arguments and identity;
- :mod:`bias.training.data` — ImageFolder roots, concatenation, seeded views, data id;
- :mod:`bias.training.state` — the resumable ``<out>/state/last.pt`` (weights_only-safe);
- :mod:`bias.training.dist` — torchrun / DDP set-up;
- :mod:`bias.training.loop` — the loop itself.
"""

from bias.training.config import TrainConfig
from bias.training.loop import train

__all__ = ["TrainConfig", "train"]
