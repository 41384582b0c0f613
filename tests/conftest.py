"""Fixtures shared across the test suite."""

import pytest
import torch


@pytest.fixture
def one_torch_thread():
    """Run a test on one torch thread: small models are faster so, and two xdist workers
    share the machine's two cores without oversubscribing them."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
