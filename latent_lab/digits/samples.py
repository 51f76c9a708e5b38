"""Sampling views: a drawn digit's posterior on the maps and its samples z = μ + s·σ·ε, and
samples of the prior z ~ N(0, I), decoded by each 16-number model of the family."""

from dataclasses import dataclass

import torch

from latent_lab.checks import InputError, MAX_SEED, check_number, round_summary
from latent_lab.digits import classifier, latents, maps, pictures
from latent_lab.digits.models import load, names

POSTERIOR_MODEL = "digits-vae-16"
MAX_SAMPLES = 64
MAX_SIGMA_SCALE = 5.0
PRIOR_COUNT = 256  # digit-likeness of the prior is measured on this many z; the first n are shown


@dataclass
class DrawnDigitView:
    maps: maps.MapView  # both 2-number maps, with the digit's μ marked (and the VAE's σ as ellipses)
    samples_picture: object  # PIL: decode(μ), then the labelled samples, in one row
    samples: list  # the samples alone, in order: plain PIL pictures, 4x (112 px a side)
    summary: dict


def check_ink(ink):
    """A framed digit (28, 28), float ink in [0, 1] or uint8 0-255, with some ink, as a float
    tensor in [0, 1]; else an InputError asking for one."""
    ink = latents.to_pixels(ink)
    if ink.shape != (28, 28) or not torch.isfinite(ink).all() or ink.min() < 0 or ink.max() > 1:
        raise InputError("A digit must be a 28x28 picture of ink in [0, 1], as frame_digit makes.")
    if not ink.any():
        raise InputError("Draw a digit first: the picture has no ink.")
    return ink


def check_sampling(n_samples, sigma_scale, seed):
    """The posterior samples' knobs, checked where they enter."""
    return (check_number(n_samples, "The number of samples", 1, MAX_SAMPLES, integer=True),
            check_number(sigma_scale, "The σ scale", 0, MAX_SIGMA_SCALE),
            check_number(seed, "The seed", 0, MAX_SEED, integer=True))


def drawn_digit_view(ink, n_samples=8, sigma_scale=1.0, seed=0, extent="prior"):
    """Where a framed digit lands on both 2-number maps, and n seeded samples of the
    16-number VAE's posterior, z = μ + sigma_scale·σ·ε, decoded and labelled."""
    ink = check_ink(ink)
    n_samples, sigma_scale, seed = check_sampling(n_samples, sigma_scale, seed)
    summary = {"label": None, "confidence": None}
    # 1. The digit's μ on each 2-number map; the VAE's σ as 1σ and 2σ ellipses, in latent units.
    view = maps.map_view(extent)
    for name, picture in view.pictures.items():
        summary[name] = maps.mark_digit(load(name), picture, view.planes[name], ink)
    # 2. Samples of the 16-number VAE's posterior, decoded with decode(μ) first.
    picture, samples, numbers = posterior_samples(load(POSTERIOR_MODEL), ink, n_samples, sigma_scale, seed)
    summary.update(numbers, model=POSTERIOR_MODEL)
    return DrawnDigitView(view, picture, samples, round_summary(summary))


def posterior_samples(model, ink, n_samples, sigma_scale, seed):
    """A VAE's decode(μ) of a checked digit and n seeded samples z = μ + sigma_scale·σ·ε:
    (labelled row picture, the samples as pictures, numbers: how much the samples vary and
    whether they keep decode(μ)'s label)."""
    mu, sigma = latents.encode(model, ink[None])  # (1, d) each
    sigma = torch.zeros_like(mu) if sigma is None else sigma  # an autoencoder: every sample is μ
    noise = torch.randn(n_samples, mu.shape[1], generator=torch.Generator().manual_seed(seed))
    inks = latents.decode(model, torch.cat([mu, mu + sigma_scale * sigma * noise]))  # (1 + n, 28, 28)
    labels, confidences, captions, _ = pictures.labelled(torch.cat([ink[None], inks]))
    numbers = dict(label=classifier.label_name(labels[0]), confidence=float(confidences[0]),
                   n_samples=n_samples, sigma_scale=sigma_scale, seed=seed,
                   decoded_mu_label=classifier.label_name(labels[1]),
                   sample_labels=[classifier.label_name(label) for label in labels[2:]],
                   pixel_std_mean=float(inks[1:].std(dim=0).mean()) if n_samples > 1 else 0.0,
                   keep_label_share=float((labels[2:] == labels[1]).mean()))
    titles = ["drawn, decode(mu),\nthen samples"]
    picture = pictures.grid_picture([torch.cat([ink[None], inks])], [captions], titles, scale=3)
    return picture, [pictures.to_picture(ink, scale=4) for ink in inks[1:]], numbers


def prior_samples_view(n_samples=8, seed=0):
    """The same seeded z ~ N(0, I) decoded by each 16-number model: one labelled row per model.
    Digit-likeness per row: of the n shown, and of PRIOR_COUNT from the same seed (steadier)."""
    n_samples = check_number(n_samples, "The number of samples", 1, MAX_SAMPLES, integer=True)
    seed = check_number(seed, "The seed", 0, MAX_SEED, integer=True)
    z = maps.prior_z(PRIOR_COUNT, 16, seed)  # (PRIOR_COUNT, 16): the first n are shown
    rows, captions, titles, summary = [], [], [], {"seed": seed, "n_samples": n_samples, "models": {}}
    for name in names(latent_dim=16):
        inks = latents.decode(load(name), z)
        labels, _, row_captions, clear = pictures.labelled(inks[:n_samples])
        likeness = classifier.digit_likeness(inks)
        rows.append(inks[:n_samples])
        captions.append(row_captions)
        titles.append(f"{name}\n{likeness:.0%} clear digits")
        summary["models"][name] = {"labels": [classifier.label_name(label) for label in labels],
                                   "digit_likeness": float(clear.mean()),
                                   f"digit_likeness_{PRIOR_COUNT}": likeness}
    return pictures.grid_picture(rows, captions, titles, scale=3), round_summary(summary)
