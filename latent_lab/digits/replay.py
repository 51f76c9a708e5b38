"""Training replayed: the 2-number autoencoder and VAE trained again from scratch (by
latent_lab.training.replay_digits), with the map at log-spaced steps and the loss curves.

The snapshots ship as small PNG maps and one JSON file: scrubbing through them is no model work.
"""

from functools import cache
import json

from PIL import Image

from latent_lab.checks import check_number, round_summary
from latent_lab.digits import classifier, figures, latents, maps
from latent_lab.digits.models import MODELS, check_name, test_digits

REPLAY = MODELS / "digits-replay"
REPLAY_JSON = REPLAY / "replay.json"
REPLAYED = ("digits-ae-2d", "digits-vae-2d")
REPLAY_CELLS = 16  # decodes per side of a snapshot's map (448 pixels)


def replay_plane(model):
    """The window every snapshot of a model is drawn in: N(0, I)'s ±3 for a VAE, the square
    around the finished autoencoder's codes for an autoencoder (they spread far beyond ±3)."""
    if model.config.kind == "vae":
        return maps.Plane(cells=REPLAY_CELLS)
    return maps.codes_plane(latents.encode(model, test_digits()[0])[0], REPLAY_CELLS)


def snapshot_map(model, plane):
    """A snapshot's map over `plane` with the test digits' codes, and its share of clear digits."""
    images, labels = test_digits()
    codes = latents.encode(model, images)[0]  # not test_codes: that keeps every model it meets
    picture, inks = maps.draw_map(model, plane, codes, labels)
    return picture, classifier.digit_likeness(inks)


def snapshot_path(name, index):
    return REPLAY / f"{name}-{index:02d}.png"


@cache
def replays():
    """The replay record of each replayed model (read once)."""
    return json.loads(REPLAY_JSON.read_text())


@cache
def snapshot_picture(name, index):
    """The PNG map of snapshot `index` of `name` (read once; callers copy it)."""
    with Image.open(snapshot_path(name, index)) as picture:
        return picture.convert("RGB")


def training_view(name, snapshot):
    """The map at snapshot `snapshot` (index from 0) of `name`'s training, the loss curves with
    that moment marked, and {model, snapshot, step, snapshots: [{step, recon, kl, clear_share}]}."""
    entry = replays()[check_name(name, list(REPLAYED))]
    count = len(entry["snapshots"])
    index = check_number(snapshot, "The snapshot", 0, count - 1, integer=True)
    moment = entry["snapshots"][index]
    marks = {"steps": [row["step"] for row in entry["snapshots"]],
             "recon": [row["recon"] for row in entry["snapshots"]],
             "kl": None if entry["kind"] == "ae" else [row["kl"] for row in entry["snapshots"]]}
    title = f"{name}, step {moment['step']:,} of {entry['steps']:,}"
    figure = figures.curves_figure(entry["curve"], moment["step"], marks, title)
    summary = {"model": name, "snapshot": index, "step": moment["step"], "steps": entry["steps"],
               "kl_weight": entry["kl_weight"], "span": entry["span"], "snapshots": entry["snapshots"]}
    return snapshot_picture(name, index).copy(), figure, round_summary(summary)


def snapshot_count(name):
    """How many snapshots `name`'s replay has."""
    return len(replays()[check_name(name, list(REPLAYED))]["snapshots"])
