import math

import pytest
import torch

from latent_lab import models, vae as vae_ops
from latent_lab.imaging import to_tensor
from tests.conftest import make_tiny_vae, photo_like


@pytest.fixture(scope="module")
def posterior(tiny_vae):
    return vae_ops.encode(tiny_vae, photo_like(96, 64))


def test_encode_gives_mean_and_std_in_scaled_units(tiny_vae, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_BF16", "0")  # fp32, as the raw call below
    posterior = vae_ops.encode(tiny_vae, photo_like(96, 64))
    assert posterior.mean.shape == (1, 4, 8, 12)  # (1, C, H/8, W/8)
    assert posterior.std.shape == posterior.mean.shape
    assert (posterior.std > 0).all()
    with torch.no_grad():
        raw = tiny_vae.encode(to_tensor(photo_like(96, 64))).latent_dist
    assert torch.allclose(posterior.mean, raw.mean * 0.5, atol=1e-6)
    assert torch.allclose(posterior.std, raw.std * 0.5, atol=1e-6)


def test_encode_batch_gives_each_picture_its_own_mean_in_bounded_batches(tiny_vae, posterior, monkeypatch):
    pictures = [photo_like(96, 64, seed=0), photo_like(96, 64, seed=1), photo_like(96, 64, seed=2)]
    calls = []
    encode = tiny_vae.encode
    monkeypatch.setattr(tiny_vae, "encode", lambda x: calls.append(x.shape[0]) or encode(x))
    monkeypatch.setattr(vae_ops, "DECODE_PIXELS", 2 * 96 * 64)  # two pictures a batch
    means = vae_ops.encode_batch(tiny_vae, pictures)
    assert calls == [2, 1] and means.shape == (3, 4, 8, 12)
    assert torch.allclose(means[0:1], posterior.mean, atol=1e-5)
    assert torch.allclose(means[2:3], vae_ops.encode(tiny_vae, pictures[2]).mean, atol=1e-5)


def test_scale_factor_comes_from_the_config(tiny_vae):
    assert vae_ops.scale_factor(tiny_vae) == 8


def test_sample_is_seeded_and_prefix_stable(posterior):
    eight = vae_ops.sample(posterior, 8, sigma_scale=1.0, seed=3)
    again = vae_ops.sample(posterior, 8, sigma_scale=1.0, seed=3)
    other = vae_ops.sample(posterior, 8, sigma_scale=1.0, seed=4)
    assert eight.shape == (8, 4, 8, 12)
    assert torch.equal(eight, again)
    assert not torch.equal(eight, other)
    assert torch.equal(vae_ops.sample(posterior, 3, 1.0, seed=3), eight[:3])


def test_sample_spread_follows_sigma_scale(posterior):
    assert torch.equal(vae_ops.sample(posterior, 4, sigma_scale=0.0, seed=1), posterior.mean.expand(4, -1, -1, -1))
    many = vae_ops.sample(posterior, 2000, sigma_scale=2.0, seed=1)
    measured = many.std(dim=0, keepdim=True)
    assert torch.allclose(measured, 2.0 * posterior.std, rtol=0.15)
    assert torch.allclose(many.mean(dim=0, keepdim=True), posterior.mean, atol=0.3 * float(posterior.std.max()))


def test_decode_shape_range_and_batching(tiny_vae, posterior, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_BF16", "0")  # in fp32, batches change nothing but float rounding
    latents = vae_ops.sample(posterior, 5, 1.0, seed=0)
    pictures = vae_ops.decode(tiny_vae, latents, batch_size=2)
    assert pictures.shape == (5, 3, 64, 96)
    assert pictures.min() >= -1 and pictures.max() <= 1
    one_by_one = torch.cat([vae_ops.decode(tiny_vae, z[None]) for z in latents])
    assert torch.allclose(pictures, one_by_one, atol=1e-5)


def skip_unless_bf16():
    decision = models.cpu_bf16()
    if not decision.use:
        pytest.skip(f"the decoder runs in fp32 on this CPU ({decision.reason})")


def test_the_encoder_runs_in_the_decoders_precision(tiny_vae, posterior, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_BF16", "0")
    fp32 = vae_ops.encode(tiny_vae, photo_like(96, 64))
    assert torch.equal(fp32.mean, vae_ops.encode(tiny_vae, photo_like(96, 64)).mean)  # deterministic
    monkeypatch.setenv("LATENT_LAB_BF16", "1")  # bf16 whatever this CPU is (emulated where it has no bf16 units)
    bf16 = vae_ops.encode(tiny_vae, photo_like(96, 64))
    assert bf16.mean.dtype == bf16.std.dtype == torch.float32 and bf16.mean.shape == fp32.mean.shape
    assert not torch.equal(bf16.mean, fp32.mean)  # it did run in bf16
    assert torch.equal(vae_ops.encode_batch(tiny_vae, [photo_like(96, 64)]), bf16.mean)


def test_the_bf16_encoder_keeps_mu_and_sigma_within_the_tolerance_on_the_embedded_vae(monkeypatch):
    from latent_lab import imaging
    from latent_lab.config import EMBEDDED_VAE, EXAMPLES

    vae = models.load_vae(str(EMBEDDED_VAE))
    picture = imaging.fit_to_model(imaging.load_image(EXAMPLES / "rocket.jpg"), 256)  # held out from training
    monkeypatch.setenv("LATENT_LAB_BF16", "0")
    fp32 = vae_ops.encode(vae, picture)
    monkeypatch.setenv("LATENT_LAB_BF16", "1")
    bf16 = vae_ops.encode(vae, picture)
    moved = (bf16.mean - fp32.mean).abs() / fp32.std
    assert 0 < moved.max() <= vae_ops.BF16_MU_SIGMAS  # measured 0.31 σ at worst on held-out photos at 512 px
    assert moved.median() < 0.1  # measured 0.03 σ
    assert ((bf16.std - fp32.std).abs() / fp32.std).max() <= vae_ops.BF16_SIGMA_SHARE  # measured 1.8% at worst


def test_bf16_decodes_are_float32_pictures_close_to_fp32(posterior, monkeypatch):
    skip_unless_bf16()
    vae = models.place(make_tiny_vae())  # channels_last, as loaded
    latents = vae_ops.sample(posterior, 3, 1.0, seed=0)
    bf16 = vae_ops.decode(vae, latents)
    assert torch.equal(vae_ops.decode(vae, latents), bf16)  # deterministic
    monkeypatch.setenv("LATENT_LAB_BF16", "0")
    fp32 = vae_ops.decode(vae, latents)
    assert bf16.dtype == torch.float32 and bf16.shape == fp32.shape == (3, 3, 64, 96)
    assert bf16.min() >= -1 and bf16.max() <= 1
    assert not torch.equal(bf16, fp32)  # it did run in bf16
    assert vae_ops.psnr(fp32, bf16) > 40  # measured 46.7 dB on these random weights (51-58 dB on the trained VAE)


def test_bf16_decodes_photos_as_well_as_fp32_on_the_embedded_vae(monkeypatch):
    from latent_lab import imaging
    from latent_lab.config import EMBEDDED_VAE, EXAMPLES

    skip_unless_bf16()
    vae = models.load_vae(str(EMBEDDED_VAE))
    picture = imaging.fit_to_model(imaging.load_image(EXAMPLES / "coffee.jpg"), 512)  # held out from training
    mean = vae_ops.encode(vae, picture).mean
    bf16 = vae_ops.decode(vae, mean)[0]
    monkeypatch.setenv("LATENT_LAB_BF16", "0")
    fp32 = vae_ops.decode(vae, mean)[0]
    pixels = imaging.to_tensor(picture)[0]
    # bf16 looks like fp32 (measured 55.7 dB), or at least costs no quality (measured 0.01 dB lower).
    assert vae_ops.psnr(fp32, bf16) >= 50 or vae_ops.psnr(pixels, bf16) >= vae_ops.psnr(pixels, fp32) - 0.5


def test_between_decoded_batches_the_caller_runs_without_bf16_or_inference_mode(tiny_vae, posterior, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_BF16", "1")  # the decoder in bf16, whatever this CPU is
    latents = vae_ops.sample(posterior, 4, 1.0, seed=0)
    batches = []
    for pictures in vae_ops.decode_batches(tiny_vae, latents, batch_size=2):
        assert not torch.is_autocast_enabled("cpu") and not torch.is_inference_mode_enabled()
        batches.append(pictures)
    assert [len(b) for b in batches] == [1, 2, 1]  # the first picture alone, so it shows soonest


def test_psnr_known_values():
    a = torch.zeros(3, 8, 8)
    assert vae_ops.psnr(a, a) == math.inf
    # an error of 0.2 on the [-1, 1] scale is 0.1 on [0, 1]: MSE 0.01, so 20 dB
    assert vae_ops.psnr(a, a + 0.2) == pytest.approx(20.0, abs=1e-4)


def test_kl_per_dim_is_zero_for_the_prior_and_grows_away_from_it(tiny_vae):
    prior = vae_ops.Posterior(mean=torch.zeros(1, 4, 2, 2), std=torch.full((1, 4, 2, 2), 0.5))  # raw N(0, 1)
    assert vae_ops.kl_per_dim(prior, tiny_vae) == pytest.approx(0.0, abs=1e-6)
    shifted = vae_ops.Posterior(mean=torch.full((1, 4, 2, 2), 0.5), std=prior.std)  # raw mean 1
    assert vae_ops.kl_per_dim(shifted, tiny_vae) == pytest.approx(0.5, abs=1e-6)


def test_a_model_without_sigma_gives_repeated_means():
    point = vae_ops.Posterior(mean=torch.randn(1, 4, 3, 3), std=None)
    assert not point.has_sigma
    assert torch.equal(vae_ops.sample(point, 3, 5.0, seed=0), point.mean.expand(3, -1, -1, -1))


def test_a_plain_autoencoder_has_a_point_posterior(tiny_vae):
    from latent_lab.training.train_vae import make_point_posterior
    from tests.conftest import make_tiny_vae, photo_like

    autoencoder = make_tiny_vae(seed=0)
    make_point_posterior(autoencoder)
    picture = photo_like(64, 64)
    posterior = vae_ops.encode(autoencoder, picture)
    assert posterior.std is None and not posterior.has_sigma
    # Same μ as before: only the σ rows changed.
    assert torch.allclose(posterior.mean, vae_ops.encode(tiny_vae, picture).mean)


def test_large_pictures_are_decoded_in_blended_tiles(tiny_vae, posterior, monkeypatch):
    calls = []
    tiled_decode = tiny_vae.tiled_decode
    monkeypatch.setattr(tiny_vae, "tiled_decode", lambda z: calls.append(tuple(z.shape)) or tiled_decode(z))
    latents = vae_ops.sample(posterior, 2, 1.0, seed=0)
    whole = vae_ops.decode(tiny_vae, latents)
    assert calls == []  # 64 x 96 px: under the limit
    monkeypatch.setattr(vae_ops, "TILE_ABOVE", 64 * 64)
    tiled = vae_ops.decode(tiny_vae, latents)
    assert calls == [(1, 4, 8, 12), (1, 4, 8, 12)]  # one picture at a time, 32 px tiles of the tiny VAE
    assert tiled.shape == whole.shape and tiled.min() >= -1 and tiled.max() <= 1
    assert torch.equal(vae_ops.decode(tiny_vae, latents), tiled)


def test_tiles_decode_a_photo_as_the_whole_picture_does_on_the_embedded_vae(monkeypatch):
    from latent_lab import imaging, models
    from latent_lab.config import EMBEDDED_VAE, EXAMPLES

    vae = models.load_vae(str(EMBEDDED_VAE))
    picture = imaging.fit_to_model(imaging.load_image(EXAMPLES / "coffee.jpg"), 512)
    mean = vae_ops.encode(vae, picture).mean
    whole = vae_ops.decode(vae, mean)[0]
    monkeypatch.setattr(vae_ops, "TILE_ABOVE", 256 * 256)  # 256 px tiles, 64 px blended overlaps
    tiled = vae_ops.decode(vae, mean)[0]
    assert not torch.equal(tiled, whole)
    assert vae_ops.psnr(whole, tiled) > 27  # measured 30.4 dB: no visible seams
    pixels = imaging.to_tensor(picture)[0]
    assert vae_ops.psnr(pixels, tiled) > vae_ops.psnr(pixels, whole) - 0.5  # tiling costs no quality
