"""The Encode tab: where the encoder puts a picture (μ and σ per latent cell), its
reconstruction and how far the posterior is from N(0, 1)."""

from dataclasses import dataclass

from PIL import Image

from latent_lab import imaging, plots, vae as vae_ops
from latent_lab.cache import posteriors, prepare
from latent_lab.checks import model_name, round_summary


def no_sigma_note(posterior):
    return None if posterior.has_sigma else "This model has no σ: its encoder maps a picture to one point."


@dataclass
class EncodeResult:
    image: Image.Image
    reconstruction: Image.Image
    posterior_plot: object
    summary: dict


def encode_view(vae, source, file, max_side=512):
    image = prepare(vae, file, max_side)
    posterior = posteriors.get(vae, image)
    reconstruction = posteriors.reconstruction(vae, image)
    mean = posterior.mean[0]
    std = posterior.std[0] if posterior.has_sigma else None
    summary = {
        "latent_shape": list(mean.shape),
        "mu_mean": mean.mean().item(),
        "mu_std": mean.std().item(),
        "sigma_mean": std.mean().item() if std is not None else None,
        "sigma_min": std.min().item() if std is not None else None,
        "sigma_max": std.max().item() if std is not None else None,
        "kl_per_dim": vae_ops.kl_per_dim(posterior, vae),
        "psnr_db": vae_ops.psnr(imaging.to_tensor(image)[0], reconstruction),
        "image_size": [image.width, image.height],
        "model": model_name(source),
    }
    if std is not None:
        figure = plots.posterior_figure(mean.numpy(), std.numpy())
    else:
        summary["note"] = no_sigma_note(posterior)
        figure = plots.channels_figure(mean.numpy(), "μ per channel (this model has no σ)")
    return EncodeResult(image, imaging.to_pil(reconstruction), figure, round_summary(summary))
