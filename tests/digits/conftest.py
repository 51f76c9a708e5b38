"""What the digits tests share."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The digits models are tiny: one thread is faster than two fighting over a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
