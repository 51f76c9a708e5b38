"""latent_lab/photos/sample.py on a tiny VAE: seeded samples, their spread, refusals."""

import numpy as np
import pytest

from latent_lab.photos import sample
from latent_lab.checks import InputError
from tests.conftest import SOURCE


def test_sample_is_deterministic_and_spreads_with_sigma_scale(tiny_vae, photo_file):
    first = sample.sample_view(tiny_vae, SOURCE, photo_file, n_samples=4, sigma_scale=1.0, seed=5)
    again = sample.sample_view(tiny_vae, SOURCE, photo_file, n_samples=4, sigma_scale=1.0, seed=5)
    wider = sample.sample_view(tiny_vae, SOURCE, photo_file, n_samples=4, sigma_scale=5.0, seed=5)
    still = sample.sample_view(tiny_vae, SOURCE, photo_file, n_samples=4, sigma_scale=0.0, seed=5)
    assert len(first.samples) == 4
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first.samples, again.samples))
    assert still.summary["pixel_std_mean"] == 0
    assert 0 < first.summary["pixel_std_mean"] < wider.summary["pixel_std_mean"]
    assert {"n_samples", "seed", "sigma_scale", "pixel_std_mean", "model"} <= set(first.summary)


def test_sample_measures_how_far_samples_land_from_the_reconstruction(tiny_vae, photo_file, monkeypatch):
    # In fp32: bf16's rounding alone moves this random tiny VAE's pictures by about a grey level
    # (the embedded VAE's by a quarter of one at 512 px, under the note's threshold).
    monkeypatch.setenv("LATENT_LAB_BF16", "0")
    from latent_lab.training.train_vae import make_point_posterior
    from tests.conftest import make_tiny_vae
    tiny_vae = make_tiny_vae()  # its own cache entries, decoded in fp32

    noisy = sample.sample_view(tiny_vae, SOURCE, photo_file, n_samples=3, sigma_scale=3.0, seed=4).summary
    assert 0 < noisy["difference_mean"] <= noisy["difference_max"] and noisy["sigma_mean"] > 0
    assert "note" not in noisy or "tiny" not in noisy["note"]
    tiny = sample.sample_view(tiny_vae, SOURCE, photo_file, n_samples=2, sigma_scale=0.001, seed=4).summary
    assert tiny["difference_mean"] < 1 and "σ is tiny" in tiny["note"]
    assert "σ-scale 0" in sample.sample_view(tiny_vae, SOURCE, photo_file, n_samples=2, sigma_scale=0).summary["note"]
    autoencoder = make_tiny_vae(seed=0)
    make_point_posterior(autoencoder)
    point = sample.sample_view(autoencoder, SOURCE, photo_file, n_samples=2).summary
    assert point["sigma_mean"] is None and "no σ" in point["note"] and point["difference_max"] == 0


@pytest.mark.parametrize("change, message", [
    (dict(n_samples=0), "Number of samples"), (dict(n_samples=17), "Number of samples"),
    (dict(sigma_scale=float("nan")), "σ-scale"), (dict(sigma_scale=11), "σ-scale"),
    (dict(seed=-1), "Seed"), (dict(seed=2**33), "Seed"),
])
def test_sample_refuses_numbers_out_of_range(tiny_vae, photo_file, change, message):
    with pytest.raises(InputError, match=message):
        sample.sample_view(tiny_vae, SOURCE, photo_file, **{"n_samples": 2, "sigma_scale": 1.0, "seed": 0, **change})
