"""Digits <-> latent vectors: encode, decode, the posterior's KL per number, the nearest test
digits, and latent vectors typed in as JSON text (checked before anything is allocated)."""

from functools import cache
import json
import math

import numpy as np
import torch

from latent_lab.checks import InputError, shorten
from latent_lab.digits.models import test_digits

MAX_VECTORS = 1024
MAX_TEXT = 1_000_000  # characters: 1,024 vectors of 16 full-precision numbers take ~370,000
MAX_VALUE = 1000.0
NEIGHBOURS = 5


def to_pixels(digits):
    """(N, 28, 28) digits, uint8 0-255 or float in [0, 1] -> float32 tensor in [0, 1]."""
    if not isinstance(digits, torch.Tensor):
        digits = torch.from_numpy(np.array(digits))  # a copy: the shipped test digits are read-only
    return digits.float() / 255 if digits.dtype == torch.uint8 else digits.float()


@torch.inference_mode()
def encode(model, digits):
    """(N, 28, 28) digits -> μ (N, d) and σ (N, d); σ is None for an autoencoder."""
    mean, logvar = model.encode(to_pixels(digits))
    return mean, None if logvar is None else (0.5 * logvar).exp()


@torch.inference_mode()
def decode(model, z):
    """(N, d) latent vectors -> (N, 28, 28) ink in [0, 1], in one batch (1,024 take milliseconds)."""
    return model.decode(torch.as_tensor(z, dtype=torch.float32).reshape(-1, model.config.latent_dim))


def kl_per_dim(mean, sigma):
    """KL(N(μ, σ²) ‖ N(0, 1)) of each number, in nats: (N, d). ~0 means the number carries nothing."""
    return 0.5 * (mean**2 + sigma**2 - 1) - sigma.log()


def psnr_db(decoded, original):
    """Mean PSNR in dB of (N, 28, 28) pictures in [0, 1] against the originals."""
    mse = ((decoded - original) ** 2).mean(dim=(1, 2)).clamp(min=1e-10)
    return float((10 * torch.log10(1 / mse)).mean())


@cache
def test_codes(model):
    """μ of the shipped test digits in `model`'s latent space (N, d), and their labels (N,)."""
    images, labels = test_digits()
    return encode(model, images)[0], labels


def nearest_labels(model, mu, k=NEIGHBOURS):
    """The true labels of the k test digits nearest to μ (d,) in `model`'s latent space, nearest first."""
    codes, labels = test_codes(model)
    distances = (codes - torch.as_tensor(mu, dtype=torch.float32).reshape(1, -1)).norm(dim=1)
    return [int(labels[i]) for i in distances.argsort()[:k]]


def parse_latents(text, latent_dim):
    """JSON text of latent vectors, e.g. "[[0.5, -1.2], [0, 0]]" -> (N, latent_dim) tensor.
    Refuses anything else with an InputError that says what is accepted."""
    accepted = (f"a JSON list of 1 to {MAX_VECTORS} lists of {latent_dim} numbers each, "
                f"between -{MAX_VALUE:g} and {MAX_VALUE:g}, like {json.dumps([[0.0] * latent_dim])}")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"Type the latent vectors as {accepted}.")
    if len(text) > MAX_TEXT:
        raise InputError(f"The latent vectors are {len(text):,} characters long; at most {MAX_TEXT:,} are "
                         f"accepted: {accepted}.")
    try:
        vectors = json.loads(text, parse_constant=lambda name: math.nan)  # NaN, Infinity: refused below
    except (ValueError, RecursionError):
        raise InputError(f"The latent vectors are not valid JSON. Type {accepted}.") from None
    if not isinstance(vectors, list) or not vectors:
        raise InputError(f"The latent vectors must be {accepted}.")
    if len(vectors) > MAX_VECTORS:
        raise InputError(f"{len(vectors):,} latent vectors were given; the most is {MAX_VECTORS}: {accepted}.")
    for index, vector in enumerate(vectors):
        if not isinstance(vector, list) or len(vector) != latent_dim:
            size = f"{len(vector)} numbers" if isinstance(vector, list) else "not a list"
            raise InputError(f"Latent vector {index + 1} is {size}; this model needs {accepted}.")
        for number in vector:
            if isinstance(number, bool) or not isinstance(number, (int, float)) or abs(number) > MAX_VALUE \
                    or not math.isfinite(number):
                raise InputError(f"Latent vector {index + 1} holds {shorten(number, 20)}; the model needs {accepted}.")
    return torch.tensor(vectors, dtype=torch.float32)  # (N, latent_dim)
