"""latent_lab/photos/encode.py on a tiny VAE: the summary's contract keys and values."""

import math

from latent_lab.photos import encode
from tests.conftest import SOURCE


def test_encode_summary_has_the_contract_keys(tiny_vae, photo_file):
    result = encode.encode_view(tiny_vae, SOURCE, photo_file)
    summary = result.summary
    assert {"latent_shape", "mu_mean", "mu_std", "sigma_mean", "sigma_min", "sigma_max", "kl_per_dim",
            "psnr_db", "model"} <= set(summary)
    assert summary["latent_shape"] == [4, 8, 12]
    assert 0 < summary["sigma_min"] <= summary["sigma_mean"] <= summary["sigma_max"]
    assert math.isfinite(summary["psnr_db"]) and summary["model"] == SOURCE
    assert result.reconstruction.size == (96, 64)
