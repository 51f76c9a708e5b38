"""latent_lab/photos/arithmetic.py on a tiny VAE: the identities of latent arithmetic."""

import numpy as np
import pytest

from latent_lab.photos import arithmetic
from latent_lab.checks import InputError
from tests.conftest import SOURCE, pixels


def test_arithmetic_identities(tiny_vae, files):
    a, b, c = files
    zero = arithmetic.arithmetic_view(tiny_vae, SOURCE, a, b, c, strength=0)
    reconstruction_a = zero.reconstructions[0]
    assert np.array_equal(pixels(zero.result), pixels(reconstruction_a))
    assert zero.summary["result_norm"] == zero.summary["a_norm"]
    same = arithmetic.arithmetic_view(tiny_vae, SOURCE, a, b, b, strength=2.5)
    assert np.array_equal(pixels(same.result), pixels(reconstruction_a)) and same.summary["difference_norm"] == 0
    moved = arithmetic.arithmetic_view(tiny_vae, SOURCE, a, b, c, strength=1)
    assert not np.array_equal(pixels(moved.result), pixels(reconstruction_a))
    assert [p.size for p in moved.reconstructions] == [(96, 64)] * 3  # B and C take A's size
    assert moved.summary["strength"] == 1 and moved.summary["model"] == SOURCE
    with pytest.raises(InputError, match="Strength"):
        arithmetic.arithmetic_view(tiny_vae, SOURCE, a, b, c, strength=3.5)
