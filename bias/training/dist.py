"""Just enough torch.distributed for ``torchrun --nproc-per-node N vitbias train ...``.

torchrun sets WORLD_SIZE, RANK and LOCAL_RANK; with WORLD_SIZE > 1 each process joins the
group (NCCL on GPUs, gloo on CPU), trains on its shard (DistributedSampler), and only rank 0
writes. Without torchrun everything below is a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistEnv:
    """This process's place in the group."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device_type: str) -> DistEnv:
    """Join the process group when launched by torchrun with WORLD_SIZE > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistEnv()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device_type == "cuda":
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    return DistEnv(dist.get_rank(), dist.get_world_size(), local_rank)


def barrier(env: DistEnv) -> None:
    if env.world_size > 1:
        dist.barrier()


def mean_across(value: torch.Tensor, env: DistEnv) -> float:
    """Mean of a scalar tensor over every process."""
    if env.world_size > 1:
        value = value.clone()
        dist.all_reduce(value)
        value /= env.world_size
    return float(value)


def teardown(env: DistEnv) -> None:
    if env.world_size > 1 and dist.is_initialized():
        dist.destroy_process_group()
