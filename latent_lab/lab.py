"""The app's operations, one function per tab: files and numbers in, pictures, figures and a
JSON-ready summary out. Validates every number, because API callers skip the sliders."""

from collections import OrderedDict
from dataclasses import dataclass
import hashlib
import math
from pathlib import Path
import threading

from PIL import Image

from latent_lab import imaging, interpolate, plots, vae as vae_ops

POSTERIOR_CACHE_SIZE = 32
MAX_SEED = 2**32 - 1


class InputError(ValueError):
    """A number or option outside what the app accepts; the message says the accepted range."""


def check_number(value, name, low, high, integer=False):
    """`value` as a float (or int) within [low, high], or an InputError that says the range."""
    kind = "a whole number" if integer else "a number"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be {kind} from {low} to {high}; got {value!r}.") from None
    if not math.isfinite(number) or not low <= number <= high or (integer and number != int(number)):
        raise InputError(f"{name} must be {kind} from {low} to {high}; got {value!r}.")
    return int(number) if integer else number


def model_name(source):
    """How a model is named in summaries: the folder name for a local model, else the hub id."""
    path = Path(source)
    return path.name if path.is_dir() else source


def round_summary(summary, digits=4):
    """Round floats (also inside lists) so JSON summaries stay readable."""
    def tidy(value):
        if isinstance(value, float):
            return round(value, digits)
        if isinstance(value, (list, tuple)):
            return [tidy(v) for v in value]
        return value
    return {key: tidy(value) for key, value in summary.items()}


class PosteriorCache:
    """Posteriors keyed by model and picture content, so repeated requests skip the encoder."""

    def __init__(self, size=POSTERIOR_CACHE_SIZE):
        self.size, self.entries, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, vae, image):
        key = (id(vae), image.size, hashlib.sha256(image.tobytes()).hexdigest())
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        posterior = vae_ops.encode(vae, image)
        with self.lock:
            self.entries[key] = posterior
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return posterior


posteriors = PosteriorCache()


def prepare(vae, file, max_side, size=None):
    """An uploaded file -> RGB picture ready for the encoder: within max_side, sides a multiple
    of the VAE's scale factor; or exactly `size` (width, height) when given."""
    if file is None:
        raise imaging.ImageError(f"No picture was given. Upload {imaging.ACCEPTED}.")
    image = imaging.load_image(file)
    multiple = vae_ops.scale_factor(vae)
    if size is None:
        return imaging.fit_to_model(image, max_side, multiple)
    return _cover(image, size)


def _cover(image, size):
    """Resize to cover `size` (width, height), then centre-crop to exactly that size."""
    scale = max(size[0] / image.width, size[1] / image.height)
    resized = image.resize((max(size[0], round(image.width * scale)), max(size[1], round(image.height * scale))), Image.LANCZOS)
    left, top = (resized.width - size[0]) // 2, (resized.height - size[1]) // 2
    return resized.crop((left, top, left + size[0], top + size[1]))


def _no_sigma_note(posterior):
    return None if posterior.has_sigma else "This model has no σ: its encoder maps a picture to one point."


@dataclass
class EncodeResult:
    image: Image.Image
    reconstruction: Image.Image
    posterior_plot: object
    summary: dict


def encode_view(vae, file, source, max_side=512):
    image = prepare(vae, file, max_side)
    posterior = posteriors.get(vae, image)
    reconstruction = vae_ops.decode(vae, posterior.mean)[0]
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
        summary["note"] = _no_sigma_note(posterior)
        figure = plots.channels_figure(mean.numpy(), "μ per channel (this model has no σ)")
    return EncodeResult(image, imaging.to_pil(reconstruction), figure, round_summary(summary))


@dataclass
class SampleResult:
    samples: list
    pixel_std_plot: object
    summary: dict


def sample_view(vae, file, source, n_samples=8, sigma_scale=1.0, seed=0, max_side=512):
    n_samples = check_number(n_samples, "Number of samples", 1, 16, integer=True)
    sigma_scale = check_number(sigma_scale, "σ-scale", 0, 10)
    seed = check_number(seed, "Seed", 0, MAX_SEED, integer=True)
    image = prepare(vae, file, max_side)
    posterior = posteriors.get(vae, image)
    pictures = vae_ops.decode(vae, vae_ops.sample(posterior, n_samples, sigma_scale, seed))  # (n, 3, H, W)
    # How much each pixel varies across the samples (0-255 grey levels, averaged over RGB).
    pixel_std = (pictures * 127.5).std(dim=0, correction=0).mean(dim=0)
    summary = {
        "n_samples": n_samples,
        "seed": seed,
        "sigma_scale": sigma_scale,
        "pixel_std_mean": pixel_std.mean().item(),
        "pixel_std_max": pixel_std.max().item(),
        "model": model_name(source),
    }
    if not posterior.has_sigma:
        summary["note"] = _no_sigma_note(posterior)
    figure = plots.heatmap_figure(pixel_std.numpy(), f"Per-pixel std across {n_samples} samples", "grey levels (0-255)")
    return SampleResult([imaging.to_pil(p) for p in pictures], figure, round_summary(summary))


@dataclass
class InterpolateResult:
    frames: list
    norm_plot: object
    summary: dict


def interpolate_view(vae, file_a, file_b, source, steps=8, method="slerp", max_side=512):
    steps = check_number(steps, "Steps", 2, 32, integer=True)
    if method not in interpolate.METHODS:
        raise InputError(f"Method must be 'lerp' or 'slerp', not {method!r}.")
    image_a = prepare(vae, file_a, max_side)
    image_b = prepare(vae, file_b, max_side, size=image_a.size)  # B takes A's size
    mean_a, mean_b = posteriors.get(vae, image_a).mean[0], posteriors.get(vae, image_b).mean[0]
    path = interpolate.frames(mean_a, mean_b, steps, method)  # (steps, C, h, w)
    pictures = vae_ops.decode(vae, path)
    # Both curves, so students see lerp sag and slerp hold the norm (no decoding needed).
    norms_by_method = {name: interpolate.frames(mean_a, mean_b, steps, name).flatten(1).norm(dim=1).tolist()
                       for name in interpolate.METHODS}
    norms = norms_by_method[method]
    figure = plots.norm_path_figure(norms_by_method, typical_norm=math.sqrt(mean_a.numel()))
    summary = {"method": method, "steps": steps, "latent_norms": norms, "model": model_name(source)}
    return InterpolateResult([imaging.to_pil(p) for p in pictures], figure, round_summary(summary))


@dataclass
class ChannelsResult:
    channels_plot: object
    histogram_plot: object
    summary: dict


def channels_view(vae, file, source, max_side=512):
    image = prepare(vae, file, max_side)
    mean = posteriors.get(vae, image).mean[0].numpy()  # (C, h, w)
    channels = [{"mean": float(c.mean()), "std": float(c.std()), "min": float(c.min()), "max": float(c.max())} for c in mean]
    summary = {"channels": [round_summary(c) for c in channels], "latent_shape": list(mean.shape), "model": model_name(source)}
    return ChannelsResult(plots.channels_figure(mean, "Latent channels: μ of each cell (scaled units)"),
                          plots.histogram_figure(mean), summary)


def save_gif(pictures, path, seconds_per_frame=0.15, bounce=True, format=None):
    """Frames as a looping GIF (forward then back when `bounce`)."""
    sequence = pictures + pictures[-2:0:-1] if bounce and len(pictures) > 2 else pictures
    sequence[0].save(path, format=format, save_all=True, append_images=sequence[1:],
                     duration=int(seconds_per_frame * 1000), loop=0)
    return path
