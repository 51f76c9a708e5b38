"""Train the 2-number autoencoder and VAE again from scratch, the family's way, and keep snapshots
of the way there, for the app's "Training replayed" view.

    python -m latent_lab.training.replay_digits --steps 4000

The recipe is train_digits_family's (same data, augmentation, loss, KL warm-up, batch, seed,
cosine learning rate), run for a fixed number of steps on one thread. At log-spaced steps (0,
the untrained network, then 5 ... --steps) the decoder's map is drawn and the test digits are
measured; the training batches' two loss terms are logged throughout. Written to
assets/models/digits-replay/: replay.json (the numbers) and one small PNG map per snapshot.
The weights themselves are not kept: the shipped models are the ones train_digits_family wrote.
"""

import argparse
import copy
import json
import math

import numpy as np
import torch

from latent_lab.digits import latents, maps, replay
from latent_lab.digits.loss import family_loss, loss_curve, warmed_weight
from latent_lab.digits.models import spec, test_digits, untrained
from latent_lab.training.mnist import augment, load_mnist, split
from latent_lab.training.train_digits_family import BATCH, KL_WARMUP_STEPS, LR, SEED

SNAPSHOTS = 9  # after step 0: log-spaced from FIRST_STEP to the last step
FIRST_STEP = 5
CURVE_POINTS = 120  # the loss curves: batch losses averaged between log-spaced steps


def snapshot_steps(steps):
    """0, then SNAPSHOTS log-spaced steps from FIRST_STEP to `steps`."""
    spaced = np.geomspace(FIRST_STEP, steps, SNAPSHOTS).round().astype(int)
    return [0] + sorted(set(spaced.tolist()))


def held_out(model):
    """The test digits' reconstruction (BCE of decode(μ), nats per digit) and KL (nats per digit)."""
    images, _ = test_digits()
    pixels = latents.to_pixels(images)
    with torch.inference_mode():
        mean, logvar = model.encode(pixels)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(
            model.decode_logits(mean), pixels, reduction="none").sum(dim=(1, 2)).mean()
        kl = None if logvar is None else 0.5 * (mean**2 + logvar.exp() - 1 - logvar).sum(dim=1).mean()
    return float(bce), None if kl is None else float(kl)


def run(name, steps, pixels):
    """Train a fresh `name` for `steps` steps; return the batch losses (steps, 2) and the model at
    each snapshot step."""
    kl_weight = spec(name)[3]
    torch.manual_seed(SEED)
    model = untrained(name).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(SEED * 1_000_003)
    wanted, kept, losses = set(snapshot_steps(steps)), {}, []
    while len(losses) < steps:
        for batch in torch.randperm(len(pixels), generator=generator).split(BATCH):
            step = len(losses)
            if step in wanted:
                kept[step] = copy.deepcopy(model).eval()
            if step == steps:
                break
            for group in optimizer.param_groups:
                group["lr"] = LR * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / steps)))
            weight = warmed_weight(kl_weight, step, KL_WARMUP_STEPS)
            loss, bce, kl = family_loss(model, augment(pixels[batch], generator), generator, weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append((bce.item(), kl.item()))
        print(f"{name}: step {len(losses)} bce {losses[-1][0]:.1f} kl {losses[-1][1]:.2f}", flush=True)
    kept[steps] = copy.deepcopy(model).eval()
    return np.array(losses), kept


def record(name, steps, pixels):
    """Train `name` again, draw each snapshot's map, and write its PNGs; return its JSON entry."""
    losses, kept = run(name, steps, pixels)
    final = kept[steps]
    plane = replay.replay_plane(final)  # one window for every snapshot: the map forms inside it
    snapshots = []
    for index, (step, model) in enumerate(sorted(kept.items())):
        picture, clear_share = replay.snapshot_map(model, plane)
        maps.palette_picture(picture).save(replay.snapshot_path(name, index), optimize=True)
        recon, kl = held_out(model)
        codes = latents.encode(model, test_digits()[0])[0]
        snapshots.append({"step": step, "recon": round(recon, 2), "kl": None if kl is None else round(kl, 3),
                          "clear_share": round(clear_share, 4),
                          "code_std": [round(v, 3) for v in codes.std(dim=0).tolist()]})
        print(f"{name}: snapshot {index} at step {step}: {snapshots[-1]}", flush=True)
    return {"kind": spec(name)[1], "kl_weight": spec(name)[3], "steps": steps, "span": plane.span,
            "batch": BATCH, "seed": SEED, "kl_warmup_steps": KL_WARMUP_STEPS,
            "curve": loss_curve(losses, CURVE_POINTS, spec(name)[1] == "vae"), "snapshots": snapshots}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--model", action="append", choices=replay.REPLAYED, help="default: both")
    args = parser.parse_args()
    torch.set_num_threads(1)
    images, labels = load_mnist()
    train_rows, _, _ = split(images, labels)
    pixels = torch.from_numpy(images[train_rows].astype(np.float32) / 255)  # (4000, 28, 28)
    replay.REPLAY.mkdir(parents=True, exist_ok=True)
    for name in args.model or replay.REPLAYED:
        entry = record(name, args.steps, pixels)
        written = json.loads(replay.REPLAY_JSON.read_text()) if replay.REPLAY_JSON.exists() else {}
        written[name] = entry  # the other model's entry, as it is now, is kept
        replay.REPLAY_JSON.write_text(json.dumps(written, indent=1) + "\n")


if __name__ == "__main__":
    main()
