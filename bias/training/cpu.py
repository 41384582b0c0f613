"""Speed settings of a training run: thread budget, bf16 autocast and ``torch.compile``.

Measured on the micro preset (32 px, batch 128, one thread of an AVX512-BF16 CPU): bf16
autocast with timm's plain attention (matmul + softmax) takes ~1.35 ms per image and step
against ~2.45 ms in float32; with PyTorch's fused CPU flash attention bf16 is *slower*
(~2.8 ms), so :func:`unfuse_attention` switches it off when autocasting on the CPU. In float32
the two attention paths cost the same. See benchmarks/bench_train.py.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import cast

import torch

from bias.errors import VitbiasError

log = logging.getLogger(__name__)


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 dot products natively (AVX512-BF16); on other CPUs
    oneDNN emulates bf16 and autocast would be slower than float32."""
    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)  # private: may vanish
    return bool(probe and probe())


def amp_enabled(requested: bool, device: torch.device) -> bool:
    """Whether ``--amp`` turns on bf16 autocast here: on CUDA, or on a native-bf16 CPU."""
    if not requested:
        return False
    return device.type == "cuda" or cpu_has_native_bf16()


def unfuse_attention(module: torch.nn.Module) -> int:
    """Use timm's explicit attention (``fused_attn = False``) in every block; returns how many
    were switched. The weights and the maths are unchanged, only the kernel."""
    switched = 0
    for m in module.modules():
        if getattr(m, "fused_attn", False):
            m.fused_attn = False
            switched += 1
    return switched


@contextlib.contextmanager
def thread_budget(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch CPU threads (None: leave torch's default, which
    follows OMP_NUM_THREADS — Snakemake sets it to the rule's threads); restore afterwards."""
    if threads is not None and threads < 1:
        raise VitbiasError(f"--threads must be >= 1, got {threads}")
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def check_backend(backend: str) -> None:
    """Fail before any work when ``--compile BACKEND`` names no torch.compile backend."""
    known = torch.compiler.list_backends(exclude_tags=())
    if backend not in known:
        raise VitbiasError(f"--compile: unknown backend {backend!r}; known: {sorted(known)}")


def compiled(model: torch.nn.Module, backend: str) -> torch.nn.Module:
    """``torch.compile(model)``: the training step's forward (and its backward) as fused
    kernels; ``backend`` was checked by :func:`check_backend` before any work. Checkpoints
    and state are saved from the uncompiled objective, so their keys do not change. Measured
    in benchmarks/bench_compile.py."""
    log.info("compiling the training step with torch.compile (backend %s)", backend)
    return cast(torch.nn.Module, torch.compile(model, backend=backend))
