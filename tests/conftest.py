import os

import pytest
import torch

# Tests run on two cores next to other work: one intra-op thread keeps timings stable.
torch.set_num_threads(1)
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)
