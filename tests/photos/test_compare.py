"""latent_lab/photos/compare.py: the photo family side by side."""

import numpy as np
import pytest

from latent_lab import paths
from latent_lab.photos import compare
from latent_lab.checks import InputError


def test_compare_view_lines_up_the_model_family(tiny_vae, two_files):
    from latent_lab.training.train_vae import make_point_posterior
    from tests.conftest import make_tiny_vae

    autoencoder = make_tiny_vae(seed=1)
    make_point_posterior(autoencoder)
    named = [("vae", tiny_vae), ("ae", autoencoder)]
    result = compare.compare_view(named, *two_files, steps=5, seed=2)
    models = result.summary["models"]
    assert [m["model"] for m in models] == ["vae", "ae"]
    assert [m["has_sigma"] for m in models] == [True, False] and models[1]["kl_per_dim"] is None
    assert all(m["max_over_mean"] >= 1 and m["max_step_change"] >= m["mean_step_change"] > 0 for m in models)
    strip, caption = result.rows[0]
    assert strip.size == (9 * 96 + 7 * 6 + 24, 64) and caption.startswith("vae: A → B")  # 5 frames + 4 prior decodes
    again = compare.compare_view(named, *two_files, steps=5, seed=2)
    assert np.array_equal(np.asarray(again.rows[1][0]), np.asarray(result.rows[1][0]))
    other_seed = compare.compare_view(named, *two_files, steps=5, seed=3)
    assert not np.array_equal(np.asarray(other_seed.rows[0][0]), np.asarray(result.rows[0][0]))
    with pytest.raises(InputError):
        compare.compare_view(named, *two_files, steps=40)


def test_path_changes_measure_consecutive_frames():
    import torch

    frames = torch.stack([torch.full((3, 4, 4), v) for v in (-1.0, -0.5, 0.5, 1.0)])
    assert paths.path_changes(frames) == pytest.approx([63.75, 127.5, 63.75])
