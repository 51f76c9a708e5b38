"""The β family: the same networks trained at KL weights from 0 (the autoencoder) to 16, and what
the weight does, measured on the shipped test digits: reconstruction, KL, the numbers in use,
the codes' spread, the share of the plane that is a clear digit, and the prior's digit-likeness.

Measuring the whole family takes tens of seconds, so it is done once, by the evaluation
(`python -m latent_lab.training.evaluate_digits --beta`), and ships as a small JSON file and the
2-number models' maps as PNGs: moving the β slider only picks among them.
"""

from functools import cache
import json
import math

from PIL import Image

from latent_lab.checks import InputError, check_number, round_summary, shorten
from latent_lab.digits import classifier, figures, latents, maps
from latent_lab.digits.models import BETA_FAMILY, FAMILY, MODELS, load, test_digits

PRECOMPUTED = MODELS / "digits-beta"
FAMILY_JSON = PRECOMPUTED / "family.json"

MAX_BETA = 16.0  # the largest weight trained, and the largest a caller may ask for
ACTIVE_NATS = 0.05  # a number is *active* when its KL, averaged over the test digits, is above this
ACTIVE_VARIANCE = 0.01  # an autoencoder's number is active when its μ varies this much (Burda et al. 2016)
PRIOR_COUNT = 1024  # z ~ N(0, I) decoded for the prior's digit-likeness
LOG_OFFSET = 0.01  # the nearest weight is found on log(β + LOG_OFFSET), so that 0 has a place


def members(latent_dim=None):
    """(name, kind, latent_dim, kl_weight) of the family, by latent size, then by weight."""
    rows = [row for row in FAMILY + BETA_FAMILY if latent_dim in (None, row[2])]
    return sorted(rows, key=lambda row: (row[2], row[3]))


def weights(latent_dim=2):
    """The KL weights trained with `latent_dim` numbers, from 0 up."""
    return [row[3] for row in members(latent_dim)]


def nearest_weight(beta, latent_dim=2):
    """The trained weight nearest to `beta` (0 to MAX_BETA), on a log scale."""
    beta = check_number(beta, "β, the KL weight", 0, MAX_BETA)
    return min(weights(latent_dim), key=lambda w: abs(math.log(w + LOG_OFFSET) - math.log(beta + LOG_OFFSET)))


def active_dims(mu, sigma):
    """How many numbers carry something: KL above ACTIVE_NATS (a VAE), or μ's variance above
    ACTIVE_VARIANCE (an autoencoder, which has no σ)."""
    if sigma is None:
        return int((mu.var(dim=0) > ACTIVE_VARIANCE).sum())
    return int((latents.kl_per_dim(mu, sigma).mean(dim=0) > ACTIVE_NATS).sum())


@cache
def measure(name):
    """One row of the family's table, measured on the shipped test digits (JSON-ready)."""
    _, kind, dim, kl_weight = next(row for row in members() if row[0] == name)
    model = load(name)
    images, labels = test_digits()
    pixels = latents.to_pixels(images)  # (500, 28, 28)
    mu, sigma = latents.encode(model, pixels)  # (500, d) each; σ None for an autoencoder
    decoded = latents.decode(model, mu)
    kept = classifier.classify(None, decoded)[0] == labels
    prior = latents.decode(model, maps.prior_z(PRIOR_COUNT, dim))
    return {
        "name": name, "kind": kind, "latent_dim": dim, "kl_weight": kl_weight,
        "psnr_db": latents.psnr_db(decoded, pixels),
        "kl_nats": None if sigma is None else float(latents.kl_per_dim(mu, sigma).sum(dim=1).mean()),
        "active_dims": active_dims(mu, sigma),
        "code_std": float(mu.std(dim=0).mean()),
        "clear_share": maps.base_map(name, "prior")[2]["clear_share"] if dim == 2 else None,
        "prior_digit_likeness": classifier.digit_likeness(prior),
        "kept_label_share": float(kept.mean()),
    }


def map_path(name, extent):
    return PRECOMPUTED / f"{name}-{extent}.png"


def precompute():
    """Measure every model and draw each 2-number model's maps; write them for the app."""
    PRECOMPUTED.mkdir(parents=True, exist_ok=True)
    maps_written = {}
    for name, _, dim, _ in members(2):
        maps_written[name] = {}
        for extent in maps.EXTENTS:
            plane, picture, summary = maps.base_map(name, extent)
            maps.palette_picture(picture).save(map_path(name, extent), optimize=True)
            maps_written[name][extent] = {"span": plane.span, "prior_label_mix": summary["prior_label_mix"]}
    written = {"family": [round_summary(measure(row[0])) for row in members()], "maps": maps_written}
    FAMILY_JSON.write_text(json.dumps(written, indent=1) + "\n")
    return written


@cache
def precomputed():
    """The family's table and the maps' numbers, as the evaluation wrote them (read once)."""
    return json.loads(FAMILY_JSON.read_text())


def family_table():
    """Every model's row, 2-number models first, each by weight."""
    return precomputed()["family"]


@cache
def map_picture(name, extent):
    """The shipped map of a 2-number model (read once; callers copy it)."""
    with Image.open(map_path(name, extent)) as picture:
        return picture.convert("RGB")


def beta_view(beta, extent="prior"):
    """The β slider's answer: the map of the 2-number model trained at the weight nearest to
    `beta`, the trade-off figure with that weight ringed, and the summary. No model work."""
    if extent not in maps.EXTENTS:
        raise InputError(f"The map shows 'prior' (N(0, I)'s ±3) or 'codes' (the model's own range), "
                         f"not {shorten(extent)}.")
    weight = nearest_weight(beta)
    name = next(row[0] for row in members(2) if row[3] == weight)
    shown = precomputed()["maps"][name][extent]
    table = family_table()
    summary = {"beta": weight, "asked": float(beta), "model": name, "extent": extent, "span": shown["span"],
               "prior_label_mix": shown["prior_label_mix"], "active_threshold_nats": ACTIVE_NATS,
               "family": table}
    return map_picture(name, extent).copy(), figures.tradeoff_figure(table, weight), round_summary(summary)
