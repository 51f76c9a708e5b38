"""Encode pictures to the VAE posterior q(z|x) = N(mean, std^2), sample it, and decode.

All latents here are in *scaled* units, as diffusers pipelines use them:
z_scaled = (z - shift_factor) * scaling_factor, so the training data has roughly unit variance.
"""

from dataclasses import dataclass

import torch

from latent_lab import models
from latent_lab.imaging import to_tensor

DECODE_PIXELS = 2 * 256 * 256  # pixels decoded per batch: larger batches run slower on a CPU (cache)
TILE_ABOVE = 1024 * 1024  # pixels: larger pictures are decoded in overlapping tiles, in bounded memory
POINT_SIGMA = 1e-5  # a posterior narrower than this everywhere is a point: a plain autoencoder
# The bf16 encoder's tolerance against fp32's, in every cell (benchmarks/run.py checks it)
BF16_MU_SIGMAS, BF16_SIGMA_SHARE = 0.5, 0.03  # μ within half a σ, σ within 3%


@dataclass(frozen=True)
class Posterior:
    """q(z|x) for one picture, in scaled latent units. `std` is None for a model without σ
    (a plain or tiny autoencoder maps a picture to one point, not to a distribution)."""

    mean: torch.Tensor  # (1, C, H/8, W/8)
    std: torch.Tensor | None  # (1, C, H/8, W/8)

    @property
    def has_sigma(self):
        return self.std is not None


def scale_factor(vae):
    """How many pixels one latent cell covers along each side (8 for Stable Diffusion's VAE)."""
    if hasattr(vae.config, "block_out_channels"):
        return 2 ** (len(vae.config.block_out_channels) - 1)
    return 2 ** vae.config.get("upsampling_scaling_factor", 3)  # AutoencoderTiny


def _scaling(vae):
    config = vae.config
    return float(config.get("scaling_factor", 1.0) or 1.0), float(config.get("shift_factor", 0.0) or 0.0)


def _model_input(vae, pixels):
    parameter = next(vae.parameters())
    return pixels.to(parameter.device, parameter.dtype)


@torch.inference_mode()
def encode(vae, image):
    """RGB picture (sides a multiple of scale_factor) -> Posterior in scaled units, on the CPU.
    The encoder runs in the decoder's precision (models.autocast): bf16 where the CPU computes it
    natively, twice as fast. μ and σ are the numbers students read, so bf16 is held to a tolerance
    (BF16_MU_SIGMAS, BF16_SIGMA_SHARE). On held-out photos and scenes with the embedded VAE it
    moved μ by 0.02-0.05σ in the median cell and 0.16-0.43σ in the worst, σ by at most 1.8%; at
    512 px KL per dim by at most 0.15% and the reconstruction's PSNR by at most 0.04 dB. One draw
    from the posterior moves μ by σ."""
    scale, shift = _scaling(vae)
    with models.autocast(vae):
        output = vae.encode(_model_input(vae, to_tensor(image)))
    distribution = getattr(output, "latent_dist", None)
    if distribution is None:  # e.g. AutoencoderTiny: a deterministic encoder
        return Posterior(mean=((output.latents.float().cpu() - shift) * scale), std=None)
    mean = (distribution.mean.float().cpu() - shift) * scale
    std = distribution.std.float().cpu() * scale
    return Posterior(mean=mean, std=None if std.max() < POINT_SIGMA else std)


@torch.inference_mode()
def encode_batch(vae, images):
    """Posterior means (N, C, h, w), scaled units, of same-size RGB pictures, encoded in batches of
    at most DECODE_PIXELS pixels as decode does (at 512 px one at a time: six in one batch took
    1.8x as long, benchmarks/)."""
    scale, shift = _scaling(vae)
    pixels = torch.cat([to_tensor(image) for image in images])  # (N, 3, H, W)
    batch_size = max(1, DECODE_PIXELS // (pixels.shape[-2] * pixels.shape[-1]))
    means = []
    for chunk in pixels.split(batch_size):
        with models.autocast(vae):  # as encode
            output = vae.encode(_model_input(vae, chunk))
        distribution = getattr(output, "latent_dist", None)
        means.append(output.latents if distribution is None else distribution.mean)
    return (torch.cat(means).float().cpu() - shift) * scale


def sample(posterior, n_samples, sigma_scale=1.0, seed=0):
    """n draws z = mean + sigma_scale * std * eps, eps ~ N(0, I) from `seed`; (n, C, h, w).

    Draw k of the batch is the same whatever n is, so adding samples never changes earlier ones.
    """
    if not posterior.has_sigma:
        return posterior.mean.repeat(n_samples, 1, 1, 1)
    generator = torch.Generator().manual_seed(seed)
    eps = torch.randn((n_samples, *posterior.mean.shape[1:]), generator=generator)
    return posterior.mean + sigma_scale * posterior.std * eps


def decode(vae, latents, batch_size=None):
    """Scaled latents (N, C, h, w) -> float32 pictures (N, 3, 8h, 8w) in [-1, 1] (see decode_batches)."""
    return torch.cat(list(decode_batches(vae, latents, batch_size)))


def decode_batches(vae, latents, batch_size=None):
    """Decode scaled latents (N, C, h, w) batch by batch, yielding float32 pictures (n, 3, 8h, 8w)
    in [-1, 1] as each batch is done, so views can show the first pictures early: the first batch
    is one picture, the others hold `batch_size` latents (default: as many as fit in DECODE_PIXELS;
    measured in benchmarks/).
    Pictures over TILE_ABOVE pixels are decoded one at a time in overlapping tiles of the VAE's
    `sample_size`, blended at the seams (diffusers' `tiled_decode`). On a CPU with bf16 units the
    decoder runs under bf16 autocast (models.autocast): over twice as fast, and 51-58 dB PSNR from
    the fp32 decode on held-out pictures (benchmarks/)."""
    scale, shift = _scaling(vae)
    pixels_each = latents.shape[-2] * latents.shape[-1] * scale_factor(vae) ** 2
    tiled = pixels_each > TILE_ABOVE
    batch_size = 1 if tiled else batch_size or max(1, DECODE_PIXELS // pixels_each)
    chunks = [latents[:1], *latents[1:].split(batch_size)] if len(latents) > 1 else [latents]
    for chunk in chunks:
        with torch.inference_mode(), models.autocast(vae):
            raw = _model_input(vae, chunk / scale + shift)
            output = vae.tiled_decode(raw) if tiled else vae.decode(raw)
            pictures = output.sample.float().cpu().clamp(-1, 1)
        yield pictures  # outside both contexts: the caller's code between batches runs in fp32, with autograd


def kl_map(posterior, vae):
    """KL(q(z|x) || N(0, 1)) of every latent element, in the model's own (unscaled) units:
    the term the VAE's training loss pulls down; (1, C, h, w)."""
    scale, shift = _scaling(vae)
    mean, std = posterior.mean / scale + shift, posterior.std / scale
    return 0.5 * (mean.pow(2) + std.pow(2) - 1.0 - 2.0 * std.log())


def kl_per_dim(posterior, vae):
    """Mean KL per latent element (see kl_map). None without σ."""
    return kl_map(posterior, vae).mean().item() if posterior.has_sigma else None


def psnr(reference, test):
    """Peak signal-to-noise ratio in dB between pictures in [-1, 1] (higher is closer)."""
    mse = ((reference.float() - test.float()) / 2).pow(2).mean().item()
    return float("inf") if mse == 0 else 10.0 * torch.log10(torch.tensor(1.0 / mse)).item()
