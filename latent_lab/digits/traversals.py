"""Traversals: each latent number of digits-vae-16 swept from -3 to +3 while the others stay at
a digit's μ. Rows are sorted by the number's KL averaged over the test digits: numbers with
KL ~0 are ignored by the decoder (their rows do not change), the first rows change the most."""

from functools import cache

import torch

from latent_lab.checks import check_number, round_summary
from latent_lab.digits import latents, pictures
from latent_lab.digits.models import load, test_digits
from latent_lab.digits.samples import check_ink

TRAVERSAL_MODEL = "digits-vae-16"
MIN_STEPS, MAX_STEPS = 3, 15
MIN_SPAN, MAX_SPAN = 0.5, 5.0
ACTIVE_KL = 0.1  # nats: a number whose mean KL is below this carries (almost) nothing


@cache
def test_kl(model):
    """(d,) KL of each latent number, averaged over the shipped test digits."""
    mu, sigma = latents.encode(model, test_digits()[0])
    return latents.kl_per_dim(mu, sigma).mean(dim=0)


def traversal_view(ink, steps=7, span=3.0):
    """(grid picture, summary): row i sets number order[i] of the digit's μ to values from
    -span to +span (the prior's ±3σ by default); the others keep the digit's μ."""
    ink = check_ink(ink)
    steps = check_number(steps, "The number of steps", MIN_STEPS, MAX_STEPS, integer=True)
    span = check_number(span, "The span", MIN_SPAN, MAX_SPAN)
    model = load(TRAVERSAL_MODEL)
    mu, sigma = latents.encode(model, ink[None])  # (1, 16) each
    mean_kl = test_kl(model)  # (16,)
    order = mean_kl.argsort(descending=True).tolist()
    values = torch.linspace(-span, span, steps)
    rows, captions, titles = [], [], []
    for number in order:
        z = mu.repeat(steps, 1)  # (steps, 16)
        z[:, number] = values
        inks = latents.decode(model, z)
        rows.append(inks)
        captions.append(pictures.labelled(inks)[2])
        titles.append(f"z{number}: KL {mean_kl[number]:.2f}")
    summary = {"model": TRAVERSAL_MODEL, "values": values.tolist(), "order": order,
               "kl_per_dim_test_mean": mean_kl.tolist(), "kl_per_dim_digit": latents.kl_per_dim(mu, sigma)[0].tolist(),
               "active_dims": int((mean_kl > ACTIVE_KL).sum()), "mu": mu[0].tolist()}
    return pictures.grid_picture(rows, captions, titles, scale=2), round_summary(summary)
