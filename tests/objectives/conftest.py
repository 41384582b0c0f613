"""One torch thread per test: the CI machine is small and shared, and oversubscribed OpenMP
threads turn a 0.3 s test into 30 s."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
