"""A model trained live ("Train now"), used in the Map and Draw views of the page that trained it.

The page keeps it in its session state; nothing here caches it, so it goes when the page does.
A 2-number model gets a map of its own (and your digit marked on it); a 16-number one, samples
of your digit's posterior.
"""

from dataclasses import dataclass

from latent_lab.checks import InputError, round_summary
from latent_lab.digits import latents, maps, samples


@dataclass(frozen=True)
class Yours:
    name: str  # "yours: β=1, 20 s, 2 numbers"
    model: object  # a DigitsAutoencoder, trained
    latent_dim: int


def check_yours(yours, latent_dim=None):
    """`yours` when this page has trained a model (with `latent_dim` numbers, when given)."""
    if not isinstance(yours, Yours):
        raise InputError("Train a model first (Digits → Training → Train now); it is kept for this page only.")
    if latent_dim is not None and yours.latent_dim != latent_dim:
        raise InputError(f"Your model has {yours.latent_dim} numbers; this needs one with {latent_dim}: "
                         f"train one with {latent_dim} numbers.")
    return yours


def your_plane(yours, extent="prior"):
    """(plane, the test digits' codes (N, 2)) of your 2-number model: the prior's ±3, or the
    square around those codes. They are computed each time: nothing here keeps your model."""
    yours = check_yours(yours, 2)
    codes = latents.encode(yours.model, latents.test_digits()[0])[0]
    return maps.plane_for(yours.name, extent, codes=codes), codes


def your_map(yours, extent="prior"):
    """(plane, map picture, summary) of your 2-number model, drawn as the shipped ones are."""
    plane, codes = your_plane(yours, extent)
    picture, summary = maps.model_map(yours.model, plane, yours.name, codes)
    return plane, picture, round_summary(summary)


def your_digit(yours, ink, n_samples=8, sigma_scale=1.0, seed=0, extent="prior"):
    """Your digit in your model: marked on its map (2 numbers), or decode(μ) and samples of its
    posterior (16 numbers). (picture, summary)."""
    yours, ink = check_yours(yours), samples.check_ink(ink)
    if yours.latent_dim == 2:  # the map's picture alone: its numbers are Map's, not needed on each stroke
        plane, codes = your_plane(yours, extent)
        picture, _ = maps.draw_map(yours.model, plane, codes, latents.test_digits()[1])
        return picture, round_summary({"model": yours.name, **maps.mark_digit(yours.model, picture, plane, ink)})
    knobs = samples.check_sampling(n_samples, sigma_scale, seed)
    picture, _, numbers = samples.posterior_samples(yours.model, ink, *knobs)
    return picture, round_summary({"model": yours.name, **numbers})
