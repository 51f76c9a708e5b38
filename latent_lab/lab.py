"""The app's operations, one function per tab: files and numbers in, pictures, figures and a
JSON-ready summary out. Validates every number, because API callers skip the sliders."""

from collections import OrderedDict
from dataclasses import dataclass
import hashlib
import math
from pathlib import Path
import threading

from PIL import Image
import torch

from latent_lab import digits8 as digits, imaging, interpolate, plots, vae as vae_ops

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
    """Per model and picture content: its posterior, and the decode of μ once asked for, so
    repeated requests skip the encoder, and the reconstruction is decoded once."""

    def __init__(self, size=POSTERIOR_CACHE_SIZE):
        self.size, self.entries, self.lock = size, OrderedDict(), threading.Lock()

    def _entry(self, vae, image):
        key = (id(vae), image.size, hashlib.sha256(image.tobytes()).hexdigest())
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        entry = {"posterior": vae_ops.encode(vae, image)}
        with self.lock:
            entry = self.entries.setdefault(key, entry)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return entry

    def get(self, vae, image):
        return self._entry(vae, image)["posterior"]

    def reconstruction(self, vae, image):
        """decode(μ) of `image`: (3, H, W) in [-1, 1]."""
        entry = self._entry(vae, image)
        if "reconstruction" not in entry:
            entry["reconstruction"] = vae_ops.decode(vae, entry["posterior"].mean)[0]
        return entry["reconstruction"]


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
        summary["note"] = _no_sigma_note(posterior)
        figure = plots.channels_figure(mean.numpy(), "μ per channel (this model has no σ)")
    return EncodeResult(image, imaging.to_pil(reconstruction), figure, round_summary(summary))


@dataclass
class SampleResult:
    samples: list
    pixel_std_plot: object
    summary: dict


TINY_DIFFERENCE = 1.0  # grey levels: samples closer than this to decode(μ) look the same


def sample_view(vae, source, file, n_samples=8, sigma_scale=1.0, seed=0, max_side=512):
    """Decodes of z = μ + σ-scale·σ·ε, how much each pixel varies across them, and how far they
    land from the decode of μ (|decode(z) - decode(μ)|)."""
    n_samples = check_number(n_samples, "Number of samples", 1, 16, integer=True)
    sigma_scale = check_number(sigma_scale, "σ-scale", 0, 10)
    seed = check_number(seed, "Seed", 0, MAX_SEED, integer=True)
    image = prepare(vae, file, max_side)
    posterior = posteriors.get(vae, image)
    reconstruction = posteriors.reconstruction(vae, image)
    latents = vae_ops.sample(posterior, n_samples, sigma_scale, seed)
    if sigma_scale == 0 or not posterior.has_sigma:  # every z is μ
        samples = reconstruction.expand(n_samples, -1, -1, -1)
    else:
        samples = vae_ops.decode(vae, latents)  # (n, 3, H, W)
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
        summary["note"] = _no_sigma_note(posterior)
    elif sigma_scale == 0:
        summary["note"] = "With σ-scale 0 every sample is z = μ, so all of them decode to the reconstruction."
    elif summary["difference_mean"] < TINY_DIFFERENCE:
        summary["note"] = ("σ is tiny for this model: the samples look the same as the reconstruction. "
                           "Raise the σ-scale to see where the encoder is unsure.")
    figure = plots.sample_spread_figure(pixel_std.numpy(), difference.numpy(), n_samples)
    return SampleResult([imaging.to_pil(p) for p in samples], figure, round_summary(summary))


@dataclass
class InterpolateResult:
    frames: list
    norm_plot: object
    summary: dict


def interpolate_view(vae, source, file_a, file_b, steps=8, method="slerp", max_side=512):
    steps = check_number(steps, "Steps", 2, 32, integer=True)
    if method not in interpolate.METHODS:
        raise InputError(f"Method must be 'lerp' or 'slerp', not {method!r}.")
    image_a = prepare(vae, file_a, max_side)
    image_b = prepare(vae, file_b, max_side, size=image_a.size)  # B takes A's size
    mean_a, mean_b = posteriors.get(vae, image_a).mean[0], posteriors.get(vae, image_b).mean[0]
    path = interpolate.frames(mean_a, mean_b, steps, method)  # (steps, C, h, w)
    # The path starts at μ_A and ends at μ_B exactly: those two frames are the reconstructions.
    ends = posteriors.reconstruction(vae, image_a), posteriors.reconstruction(vae, image_b)
    middle = vae_ops.decode(vae, path[1:-1]) if steps > 2 else []
    pictures = [ends[0], *middle, ends[1]]
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


def channels_view(vae, source, file, max_side=512):
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


@dataclass
class MapResult:
    map_image: Image.Image
    picked_image: Image.Image
    digit_image: Image.Image | None
    summary: dict


def latent_map_view(vae, test_digits, source, grid_size=15, z1=0.0, z2=0.0, file=None):
    """The digits VAE's latent plane: a grid of decodes with the test digits on top, the decode
    of the picked point (z1, z2), and where an uploaded digit lands."""
    grid_size = check_number(grid_size, "Grid size", 5, 25, integer=True)
    limit = digits.LATENT_RANGE
    picked = (check_number(z1, "z1", -limit, limit), check_number(z2, "z2", -limit, limit))
    images, labels = test_digits
    points = digits.encode(vae, images)
    summary = {"grid_size": grid_size, "latent_range": [-limit, limit], "picked": list(picked),
               "test_digits": len(labels), "model": model_name(source)}
    uploaded, digit_image = None, None
    if file is not None:
        ink = digits.digit_from_picture(imaging.load_image(file))
        uploaded = digits.encode(vae, ink[None])[0]
        nearest = (points - uploaded).norm(dim=1).argsort()[:5]
        summary["uploaded_point"] = uploaded.tolist()
        summary["nearest_labels"] = [int(labels[i]) for i in nearest]
        digit_image = digits.digit_picture(ink / 16, size=128)
    map_image = digits.draw_map(vae, grid_size, points.numpy(), labels, picked, uploaded)
    picked_image = digits.digit_picture(digits.decode(vae, [picked])[0], size=256)
    return MapResult(map_image, picked_image, digit_image, round_summary(summary))


PRIOR_SAMPLES = 4


def strip(pictures, gap=6, group_gap=24, groups=()):
    """Pictures side by side on white; a wider gap before each index in `groups`."""
    width = sum(p.width for p in pictures) + gap * (len(pictures) - 1) + (group_gap - gap) * len(groups)
    canvas = Image.new("RGB", (width, max(p.height for p in pictures)), "white")
    x = 0
    for index, picture in enumerate(pictures):
        x += (group_gap - gap) if index in groups else 0
        canvas.paste(picture, (x, 0))
        x += picture.width + gap
    return canvas


def path_changes(pictures):
    """Mean absolute pixel change (grey levels, 0-255) between consecutive frames (N, 3, H, W)."""
    return ((pictures[1:] - pictures[:-1]).abs() * 127.5).mean(dim=(1, 2, 3)).tolist()


@dataclass
class CompareResult:
    rows: list  # (strip picture, caption) per model
    change_plot: object
    summary: dict


def compare_view(named_vaes, file_a, file_b, steps=6, seed=0, max_side=256):
    """Each model side by side: its reconstruction of A, a lerp from A to B, and decodes of
    z ~ N(0, I) (the prior), with how evenly the picture changes along the path."""
    steps = check_number(steps, "Steps", 2, 16, integer=True)
    seed = check_number(seed, "Seed", 0, MAX_SEED, integer=True)
    rows, changes, models = [], {}, []
    for name, vae in named_vaes:
        image_a = prepare(vae, file_a, max_side)
        image_b = prepare(vae, file_b, max_side, size=image_a.size)
        posterior_a, posterior_b = posteriors.get(vae, image_a), posteriors.get(vae, image_b)
        path = interpolate.frames(posterior_a.mean[0], posterior_b.mean[0], steps, "lerp")
        generator = torch.Generator().manual_seed(seed)
        prior = torch.randn((PRIOR_SAMPLES, *path.shape[1:]), generator=generator)
        pictures = vae_ops.decode(vae, torch.cat([path, prior]))
        frames = pictures[:steps]
        changes[name] = path_changes(frames)
        mean_change, max_change = sum(changes[name]) / len(changes[name]), max(changes[name])
        report = {
            "model": name,
            "has_sigma": posterior_a.has_sigma,
            "psnr_db": vae_ops.psnr(imaging.to_tensor(image_a)[0], frames[0]),
            "kl_per_dim": vae_ops.kl_per_dim(posterior_a, vae),
            "mean_step_change": mean_change,
            "max_step_change": max_change,
            "max_over_mean": max_change / mean_change if mean_change > 0 else 1.0,
        }
        models.append(round_summary(report))
        caption = (f"{name}: A → B (first frame {report['psnr_db']:.1f} dB from A; biggest step "
                   f"{report['max_over_mean']:.2f}× the average), then decodes of z ~ N(0, I)")
        rows.append((strip([imaging.to_pil(p) for p in pictures], groups=(steps,)), caption))
    summary = {"models": models, "steps": steps, "seed": seed, "prior_samples": PRIOR_SAMPLES}
    return CompareResult(rows, plots.path_change_figure(changes), summary)
