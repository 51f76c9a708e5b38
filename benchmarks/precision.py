"""What the CPU's fast path costs and gains on the embedded VAE: bf16 decodes against fp32 ones on
held-out pictures, the encoder in each precision and memory layout, and decode batch sizes.

Every timing here runs its paths in turn within each repeat (report.in_turn), so that a load that
comes and goes on a shared machine slows them alike.
"""

from functools import partial
import statistics
import time

import torch

from benchmarks import sd_vae
from benchmarks.report import in_turn
from latent_lab import imaging, vae as vae_ops
from latent_lab.config import EXAMPLES

PHOTOS = ("astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg")
BATCH_SIZES = (1, 2, 4, 8)


def interleaved_seconds(actions, repeats, warm_up=True):
    """{name: {"median": s, "best": s, "all": [s, ...]}} of `repeats` calls of each action, called
    in turn within every repeat (report.in_turn)."""
    def timed(action):
        started = time.perf_counter()
        action()
        return time.perf_counter() - started

    times = in_turn({name: partial(timed, action) for name, action in actions.items()}, repeats, warm_up)
    return {name: {"median": statistics.median(ts), "best": min(ts), "all": ts} for name, ts in times.items()}


def held_out_pictures(max_side):
    """(name, picture) of the example photos and scenes, fitted as the app fits an upload."""
    files = [EXAMPLES / name for name in PHOTOS] + sorted((EXAMPLES / "scenes").glob("*.png"))
    return [(path.name, imaging.fit_to_model(imaging.load_image(path), max_side)) for path in files]


def decode_quality(vae, pictures):
    """Per picture: PSNR of the bf16 decode of μ against the fp32 one, and of each against the picture."""
    rows = []
    for name, picture in pictures:
        quality = sd_vae.bf16_quality(vae, picture)
        rows.append({"picture": name, "size": list(picture.size), **quality,
                     "drop_db": quality["fp32_reconstruction_db"] - quality["bf16_reconstruction_db"]})
    return rows


def encoder_tolerance(vae, pictures):
    """Per picture: how far the app's bf16 encoder moves μ and σ from fp32's (vae.encode under
    each precision), with μ's move in units of each cell's σ: the median cell and the worst."""
    rows = []
    for name, picture in pictures:
        with sd_vae.forced_precision(False):
            reference = vae_ops.encode(vae, picture)
        with sd_vae.forced_precision(True):
            posterior = vae_ops.encode(vae, picture)
        moved = (posterior.mean - reference.mean).abs() / reference.std
        rows.append({"picture": name, "size": list(picture.size), "mu_median_sigmas": moved.median().item(),
                     "mu_worst_sigmas": moved.max().item(),
                     "sigma_worst_relative": ((posterior.std - reference.std).abs() / reference.std).max().item()})
    return rows


@torch.inference_mode()
def _posterior(vae, pixels, bf16=False, mkldnn=True):
    """(mean, std), unscaled. A model placed in channels_last turns the convolutions' outputs
    channels_last from its first layer on, whatever the layout of `pixels`."""
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = mkldnn  # off: torch's own convolution kernels instead of oneDNN's
    try:
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            distribution = vae.encode(pixels).latent_dist
            return distribution.mean.float(), distribution.std.float()
    finally:
        torch.backends.mkldnn.enabled = before


def encoder_paths(plain_vae, placed_vae, picture, repeats):
    """The encoder on one picture: plain fp32, channels_last (the app's), each without oneDNN,
    and channels_last under bf16 autocast; seconds, and how far μ and σ move from plain fp32's
    (in scaled units, and against the picture's mean σ)."""
    pixels = imaging.to_tensor(picture)  # (1, 3, H, W)
    paths = {
        "fp32, default layout (plain)": lambda: _posterior(plain_vae, pixels),
        "fp32, default layout, no oneDNN": lambda: _posterior(plain_vae, pixels, mkldnn=False),
        "fp32, channels_last (app)": lambda: _posterior(placed_vae, pixels),
        "fp32, channels_last, no oneDNN": lambda: _posterior(placed_vae, pixels, mkldnn=False),
        "bf16 autocast, channels_last": lambda: _posterior(placed_vae, pixels, bf16=True),
    }
    seconds = interleaved_seconds(paths, repeats)
    scale = plain_vae.config.scaling_factor
    mean, std = paths["fp32, default layout (plain)"]()
    rows = []
    for name, path in paths.items():
        other_mean, other_std = path()
        mean_error = (other_mean - mean).abs() * scale
        rows.append({"path": name, "seconds": seconds[name]["median"], "best_seconds": seconds[name]["best"],
                     "mean_max_error": mean_error.max().item(),
                     "mean_error_over_sigma": (mean_error.max() / (std.mean() * scale)).item(),
                     "std_max_relative_error": ((other_std - std).abs() / std).max().item()})
    return rows


def decode_batches(vae, size, repeats, frames=8):
    """Seconds per picture when `frames` latents of a picture of `size` (width, height) are decoded
    in batches of each of BATCH_SIZES, in the app's decoder precision."""
    cell = vae_ops.scale_factor(vae)
    latents = torch.randn(frames, vae.config.latent_channels, size[1] // cell, size[0] // cell,
                          generator=torch.Generator().manual_seed(0))
    paths = {size: (lambda size=size: vae_ops.decode(vae, latents, batch_size=size)) for size in BATCH_SIZES}
    seconds = interleaved_seconds(paths, repeats)
    return {size: seconds[size]["median"] / frames for size in BATCH_SIZES}
