import math

import numpy as np
import pytest
import torch

from latent_lab import lab, vae as vae_ops
from latent_lab.imaging import ImageError
from latent_lab.lab import InputError, check_number
from tests.conftest import photo_like

SOURCE = "tiny-test-vae"


@pytest.fixture
def two_files(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.jpg"
    photo_like(96, 64, seed=1).save(a)
    photo_like(120, 90, seed=2).save(b)
    return a, b


@pytest.mark.parametrize("value, ok", [(3, 3), ("4", 4), (2.0, 2)])
def test_check_number_accepts_whole_numbers_in_range(value, ok):
    assert check_number(value, "Steps", 2, 32, integer=True) == ok


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, 33, 2.5, "many", None])
def test_check_number_refuses_with_the_range(value):
    with pytest.raises(InputError, match="Steps must be a whole number from 2 to 32"):
        check_number(value, "Steps", 2, 32, integer=True)


def test_encode_summary_has_the_contract_keys(tiny_vae, photo_file):
    result = lab.encode_view(tiny_vae, SOURCE, photo_file)
    summary = result.summary
    assert {"latent_shape", "mu_mean", "mu_std", "sigma_mean", "sigma_min", "sigma_max", "kl_per_dim",
            "psnr_db", "model"} <= set(summary)
    assert summary["latent_shape"] == [4, 8, 12]
    assert 0 < summary["sigma_min"] <= summary["sigma_mean"] <= summary["sigma_max"]
    assert math.isfinite(summary["psnr_db"]) and summary["model"] == SOURCE
    assert result.reconstruction.size == (96, 64)


def test_sample_is_deterministic_and_spreads_with_sigma_scale(tiny_vae, photo_file):
    first = lab.sample_view(tiny_vae, SOURCE, photo_file, n_samples=4, sigma_scale=1.0, seed=5)
    again = lab.sample_view(tiny_vae, SOURCE, photo_file, n_samples=4, sigma_scale=1.0, seed=5)
    wider = lab.sample_view(tiny_vae, SOURCE, photo_file, n_samples=4, sigma_scale=5.0, seed=5)
    still = lab.sample_view(tiny_vae, SOURCE, photo_file, n_samples=4, sigma_scale=0.0, seed=5)
    assert len(first.samples) == 4
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first.samples, again.samples))
    assert still.summary["pixel_std_mean"] == 0
    assert 0 < first.summary["pixel_std_mean"] < wider.summary["pixel_std_mean"]
    assert {"n_samples", "seed", "sigma_scale", "pixel_std_mean", "model"} <= set(first.summary)


def test_sample_measures_how_far_samples_land_from_the_reconstruction(tiny_vae, photo_file):
    from latent_lab.training.train_vae import make_point_posterior
    from tests.conftest import make_tiny_vae

    noisy = lab.sample_view(tiny_vae, SOURCE, photo_file, n_samples=3, sigma_scale=3.0, seed=4).summary
    assert 0 < noisy["difference_mean"] <= noisy["difference_max"] and noisy["sigma_mean"] > 0
    assert "note" not in noisy or "tiny" not in noisy["note"]
    tiny = lab.sample_view(tiny_vae, SOURCE, photo_file, n_samples=2, sigma_scale=0.001, seed=4).summary
    assert tiny["difference_mean"] < 1 and "σ is tiny" in tiny["note"]
    assert "σ-scale 0" in lab.sample_view(tiny_vae, SOURCE, photo_file, n_samples=2, sigma_scale=0).summary["note"]
    autoencoder = make_tiny_vae(seed=0)
    make_point_posterior(autoencoder)
    point = lab.sample_view(autoencoder, SOURCE, photo_file, n_samples=2).summary
    assert point["sigma_mean"] is None and "no σ" in point["note"] and point["difference_max"] == 0


@pytest.mark.parametrize("change, message", [
    (dict(n_samples=0), "Number of samples"), (dict(n_samples=17), "Number of samples"),
    (dict(sigma_scale=float("nan")), "σ-scale"), (dict(sigma_scale=11), "σ-scale"),
    (dict(seed=-1), "Seed"), (dict(seed=2**33), "Seed"),
])
def test_sample_refuses_numbers_out_of_range(tiny_vae, photo_file, change, message):
    with pytest.raises(InputError, match=message):
        lab.sample_view(tiny_vae, SOURCE, photo_file, **{"n_samples": 2, "sigma_scale": 1.0, "seed": 0, **change})


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_ends_are_the_reconstructions(tiny_vae, two_files, method):
    a, b = two_files
    result = lab.interpolate_view(tiny_vae, SOURCE, a, b, steps=5, method=method)
    assert len(result.frames) == 5 and len(result.summary["latent_norms"]) == 5
    assert result.frames[-1].size == (96, 64)  # B takes A's size
    reconstruction_a = lab.encode_view(tiny_vae, SOURCE, a).reconstruction
    # equal up to float rounding: a batch of frames is decoded at once, the reconstruction alone
    difference = np.abs(np.asarray(result.frames[0], np.int16) - np.asarray(reconstruction_a, np.int16))
    assert difference.max() <= 2 and difference.mean() < 0.05
    assert result.summary["method"] == method and result.summary["steps"] == 5


def test_interpolation_refuses_unknown_methods_and_missing_pictures(tiny_vae, two_files):
    a, b = two_files
    with pytest.raises(InputError, match="lerp"):
        lab.interpolate_view(tiny_vae, SOURCE, a, b, steps=4, method="bezier")
    with pytest.raises(ImageError, match="No picture"):
        lab.interpolate_view(tiny_vae, SOURCE, a, None, steps=4)


def test_channels_summary_matches_the_posterior_mean(tiny_vae, photo_file):
    result = lab.channels_view(tiny_vae, SOURCE, photo_file)
    channels = result.summary["channels"]
    assert len(channels) == 4
    mean = lab.posteriors.get(tiny_vae, lab.prepare(tiny_vae, photo_file, 512)).mean[0]
    for stats, values in zip(channels, mean):
        assert stats["min"] <= stats["mean"] <= stats["max"]
        assert stats["mean"] == pytest.approx(values.mean().item(), abs=1e-4)


def test_posterior_cache_reuses_by_content(tiny_vae, tmp_path):
    cache = lab.PosteriorCache(size=2)
    pictures = [photo_like(64, 64, seed=s) for s in range(3)]
    first = cache.get(tiny_vae, pictures[0])
    assert cache.get(tiny_vae, pictures[0].copy()) is first
    reconstruction = cache.reconstruction(tiny_vae, pictures[0])
    assert cache.reconstruction(tiny_vae, pictures[0].copy()) is reconstruction  # decoded once
    assert torch.allclose(reconstruction, vae_ops.decode(tiny_vae, first.mean)[0], atol=1e-5)
    cache.get(tiny_vae, pictures[1]), cache.get(tiny_vae, pictures[2])
    assert len(cache.entries) == 2
    assert cache.get(tiny_vae, pictures[0]) is not first  # evicted, encoded again


def test_gif_has_every_frame_and_bounces(tmp_path):
    frames = [photo_like(32, 32, seed=s) for s in range(4)]
    path = lab.save_gif(frames, tmp_path / "path.gif")
    from PIL import Image
    with Image.open(path) as gif:
        assert gif.n_frames == 6  # 0 1 2 3 2 1


def test_compare_view_lines_up_the_model_family(tiny_vae, two_files):
    from latent_lab.training.train_vae import make_point_posterior
    from tests.conftest import make_tiny_vae

    autoencoder = make_tiny_vae(seed=1)
    make_point_posterior(autoencoder)
    named = [("vae", tiny_vae), ("ae", autoencoder)]
    result = lab.compare_view(named, *two_files, steps=5, seed=2)
    models = result.summary["models"]
    assert [m["model"] for m in models] == ["vae", "ae"]
    assert [m["has_sigma"] for m in models] == [True, False] and models[1]["kl_per_dim"] is None
    assert all(m["max_over_mean"] >= 1 and m["max_step_change"] >= m["mean_step_change"] > 0 for m in models)
    strip, caption = result.rows[0]
    assert strip.size == (9 * 96 + 7 * 6 + 24, 64) and caption.startswith("vae: A → B")  # 5 frames + 4 prior decodes
    again = lab.compare_view(named, *two_files, steps=5, seed=2)
    assert np.array_equal(np.asarray(again.rows[1][0]), np.asarray(result.rows[1][0]))
    other_seed = lab.compare_view(named, *two_files, steps=5, seed=3)
    assert not np.array_equal(np.asarray(other_seed.rows[0][0]), np.asarray(result.rows[0][0]))
    with pytest.raises(InputError):
        lab.compare_view(named, *two_files, steps=40)


def test_path_changes_measure_consecutive_frames():
    import torch

    frames = torch.stack([torch.full((3, 4, 4), v) for v in (-1.0, -0.5, 0.5, 1.0)])
    assert lab.path_changes(frames) == pytest.approx([63.75, 127.5, 63.75])
