"""The Sample tab: decodes of z = μ + σ-scale·σ·ε, and where and how much they differ."""

from dataclasses import dataclass

from latent_lab import imaging, plots, vae as vae_ops
from latent_lab.cache import posteriors, prepare
from latent_lab.checks import MAX_SEED, check_number, model_name, round_summary
from latent_lab.photos.encode import no_sigma_note
from latent_lab.streams import decoded, last


@dataclass
class SampleResult:
    samples: list
    pixel_std_plot: object
    summary: dict


MAX_SAMPLES = 16
MAX_SIGMA_SCALE = 10.0
TINY_DIFFERENCE = 1.0  # grey levels: samples closer than this to decode(μ) look the same


def sample_view(vae, source, file, n_samples=8, sigma_scale=1.0, seed=0, max_side=512):
    """Decodes of z = μ + σ-scale·σ·ε, how much each pixel varies across them, and how far they
    land from the decode of μ (|decode(z) - decode(μ)|): the last item of sample_stream."""
    return last(sample_stream(vae, source, file, n_samples, sigma_scale, seed, max_side))


def sample_stream(vae, source, file, n_samples=8, sigma_scale=1.0, seed=0, max_side=512):
    """Yields the list of samples decoded so far as each is done, then the SampleResult."""
    n_samples = check_number(n_samples, "Number of samples", 1, MAX_SAMPLES, integer=True)
    sigma_scale = check_number(sigma_scale, "σ-scale", 0, MAX_SIGMA_SCALE)
    seed = check_number(seed, "Seed", 0, MAX_SEED, integer=True)
    image = prepare(vae, file, max_side)
    posterior = posteriors.get(vae, image)
    latents = vae_ops.sample(posterior, n_samples, sigma_scale, seed)
    if sigma_scale == 0 or not posterior.has_sigma:  # every z is μ
        reconstruction = posteriors.reconstruction(vae, image)
        samples = reconstruction.expand(n_samples, -1, -1, -1)
        shown = [imaging.to_pil(reconstruction)] * n_samples  # one picture, written once
    else:
        shown = []
        samples = yield from decoded(vae, latents, shown)  # (n, 3, H, W)
        reconstruction = posteriors.reconstruction(vae, image)  # after the samples: they show first
    # Both in grey levels (0-255), averaged over RGB.
    pixel_std = (samples * 127.5).std(dim=0, correction=0).mean(dim=0)
    difference = ((samples - reconstruction).abs() * 127.5).mean(dim=(0, 1))
    summary = {
        "n_samples": n_samples,
        "seed": seed,
        "sigma_scale": sigma_scale,
        "pixel_std_mean": pixel_std.mean().item(),
        "pixel_std_max": pixel_std.max().item(),
        "difference_mean": difference.mean().item(),
        "difference_max": difference.max().item(),
        "sigma_mean": posterior.std.mean().item() if posterior.has_sigma else None,
        "model": model_name(source),
    }
    if not posterior.has_sigma:
        summary["note"] = no_sigma_note(posterior)
    elif sigma_scale == 0:
        summary["note"] = "With σ-scale 0 every sample is z = μ, so all of them decode to the reconstruction."
    elif summary["difference_mean"] < TINY_DIFFERENCE:
        summary["note"] = ("σ is tiny for this model: the samples look the same as the reconstruction. "
                           "Raise the σ-scale to see where the encoder is unsure.")
    figure = plots.sample_spread_figure(pixel_std.numpy(), difference.numpy(), n_samples)
    yield SampleResult(shown, figure, round_summary(summary))
