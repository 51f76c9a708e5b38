"""Train the digits family and the digit classifier on MNIST's 5,000-digit sample.

    python -m latent_lab.training.train_digits_family --all --minutes 3
    python -m latent_lab.training.train_digits_family --model digits-vae-16 --steps 9000

Each model trains for --minutes of CPU time (a busy machine gives as many steps as an idle one),
then is written to assets/models/<name>/ (config.json + safetensors + training.json). A run
resumes from checkpoints/digits/<name>/ when there is one (written every minute), else from the
committed weights when they exist, so a rerun continues where the last one stopped. No model
ever sees the held-out digits; 500 of them are written to assets/models/digits-test/ for the app.
"""

import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from latent_lab.digits.loss import family_loss, warmed_weight
from latent_lab.digits.models import (BETA_FAMILY, CLASSIFIER, MODELS, NO_DIGIT, TEST_DIGITS, TRAIN_DIGITS,
                                     DigitClassifier, DigitsAutoencoder, names, untrained)
from latent_lab.training.mnist import augment, crossfades, load_mnist, no_digit_pictures, same_digit_blends, split

SEED = 0
BATCH = 128
LR = 2e-3  # a fresh model; cosine decay to LR / 20 over the run
RESUME_LR = 5e-4  # a model that continues
KL_WARMUP_STEPS = 1500  # the KL weight ramps up from 0: every number gets used before the KL prunes
NO_DIGIT_SHARE = 0.15  # of each classifier batch: crossfades of two digits and no-digit pictures
NO_DIGIT_POOL = 8000
BLUR_SIGMAS = (0.0, 0.7, 1.1, 1.5)  # pixels: the classifier's pictures, blurred by one of these
FAINT = 0.5  # half of them faded to U(FAINT, 1) of their ink
BLEND_SHARE = 0.3  # of the classifier's digits, blended with another of the same label
CHECKPOINT_SECONDS = 60
CHECKPOINTS = MODELS.parent.parent / "checkpoints" / "digits"


def blur(pixels, generator):
    """Blur each of (B, 28, 28) by a random one of BLUR_SIGMAS: decoders draw softer strokes than pens."""
    versions = [pixels] + [F.conv2d(pixels[:, None], gaussian_kernel(sigma), padding=3)[:, 0]
                           for sigma in BLUR_SIGMAS[1:]]
    choice = torch.randint(len(BLUR_SIGMAS), (len(pixels),), generator=generator)
    return torch.stack(versions)[choice, torch.arange(len(pixels))]  # (B, 28, 28)


def fade(pixels, generator):
    """Fade half of (B, 28, 28) to U(FAINT, 1) of their ink, so that faint ink is no cue for "no digit"."""
    count = len(pixels)
    scale = FAINT + (1 - FAINT) * torch.rand(count, generator=generator)
    return pixels * torch.where(torch.rand(count, generator=generator) < 0.5, scale, 1.0)[:, None, None]


def gaussian_kernel(sigma, size=7):
    """A (1, 1, size, size) Gaussian blur kernel of `sigma` pixels, summing to 1."""
    x = torch.arange(size) - size // 2
    line = torch.exp(-x**2 / (2 * sigma**2))
    kernel = line[:, None] * line[None, :]
    return (kernel / kernel.sum())[None, None]


def full_ink(pixels, generator):
    """Bring half of (B, 28, 28) to full ink at their brightest pixel: blends are fainter than pens."""
    full = pixels / pixels.amax(dim=(1, 2), keepdim=True).clamp(min=1e-6)
    return torch.where(torch.rand(len(pixels), 1, 1, generator=generator) < 0.5, full, pixels)


def classifier_loss(model, pixels, labels, generator, pool):
    """Cross-entropy on digits (some blended with another of their kind) and NO_DIGIT pictures:
    crossfades of two different digits (never blurred: that would make two similar digits look
    like one) and the pool's. Returns (loss, accuracy)."""
    negatives = int(len(pixels) * NO_DIGIT_SHARE)
    digits, digit_labels = pixels[negatives:], labels[negatives:]
    blended = torch.rand(len(digits), 1, 1, generator=generator) < BLEND_SHARE
    digits = torch.where(blended, same_digit_blends(digits, digit_labels, generator), digits)
    mixed = crossfades(pixels[:negatives], labels[:negatives], generator)  # (M, 28, 28)
    noise = pool[torch.randint(len(pool), (negatives - len(mixed),), generator=generator)]
    inputs = torch.cat([blur(digits, generator), mixed, blur(augment(noise, generator), generator)])
    inputs = fade(full_ink(inputs, generator), generator)
    targets = torch.cat([digit_labels, torch.full((negatives,), NO_DIGIT)])
    logits = model(inputs)
    return F.cross_entropy(logits, targets), (logits.argmax(1) == targets).float().mean()


def has_networks(folder, name):
    """Whether the model saved in `folder` has the networks NETWORKS gives `name` now (when
    NETWORKS changes, training starts afresh instead of resuming the old networks)."""
    saved = DigitsAutoencoder.from_config(DigitsAutoencoder.load_config(folder)).config  # defaults filled in
    wanted = untrained(name).config
    return all(saved[key] == wanted[key] for key in ("channels", "hidden", "depth"))


def start(name):
    """(model, optimizer state or None, record): from the checkpoint, else the committed weights, else
    new; a saved autoencoder only when it has today's NETWORKS."""
    kind = DigitClassifier if name == CLASSIFIER else DigitsAutoencoder
    for folder in (CHECKPOINTS / name, MODELS / name):
        if (folder / "config.json").exists() and (name == CLASSIFIER or has_networks(folder, name)):
            model = kind.from_pretrained(folder, torch_dtype=torch.float32, use_safetensors=True)
            optimizer_file = folder / "optimizer.pt"
            state = torch.load(optimizer_file, weights_only=True) if optimizer_file.exists() else None
            record = json.loads((folder / "training.json").read_text())
            print(f"{name}: resuming from {folder.parent.name}/{name} at step {record['steps']}", flush=True)
            return model, state, record
    torch.manual_seed(SEED)
    fresh = {"steps": 0, "epochs": 0, "minutes": 0.0}
    if name == CLASSIFIER:
        return DigitClassifier(), None, fresh
    return untrained(name), None, fresh


def save(model, optimizer, record, folder, half=False):
    """Write model (fp16 weights when `half`), optimizer state and training record to `folder`."""
    model.register_to_config(_name_or_path=folder.name)  # not the folder it was loaded from
    if half:
        model.to(torch.float16).save_pretrained(folder, safe_serialization=True)
        model.float()
    else:
        model.save_pretrained(folder, safe_serialization=True)
    if optimizer is not None:
        torch.save(optimizer.state_dict(), folder / "optimizer.pt")
    (folder / "training.json").write_text(json.dumps(record, indent=2) + "\n")


def train(name, minutes, data, steps=None):
    """Train `name` for `minutes` of CPU time (or for `steps` steps, when given), checkpointing
    every CHECKPOINT_SECONDS; then write it to assets/models/."""
    # 1. Model, optimizer and the data stream, seeded by how far training has come.
    model, state, record = start(name)
    model.train()
    peak = RESUME_LR if record["steps"] else LR
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak)
    if state is not None:
        optimizer.load_state_dict(state)
    generator = torch.Generator().manual_seed(SEED * 1_000_003 + record["steps"])
    pixels, labels, pool = data
    kl_weight = getattr(model.config, "kl_weight", 0.0)
    # 2. Epochs until the budget is spent, learning rate on a cosine over it.
    began, last_checkpoint = time.process_time(), time.time()
    budget, run_steps = minutes * 60, 0
    minutes_so_far = lambda: round(record["minutes"] + (time.process_time() - began) / 60, 2)  # noqa: E731
    spent = lambda: min(1.0, run_steps / steps if steps else (time.process_time() - began) / budget)  # noqa: E731
    while spent() < 1:
        for batch in torch.randperm(len(pixels), generator=generator).split(BATCH):
            if spent() >= 1:
                break
            for group in optimizer.param_groups:
                group["lr"] = peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * spent())))
            if name == CLASSIFIER:
                digits = augment(pixels[batch], generator)
                loss, metric = classifier_loss(model, digits, labels[batch], generator, pool)
            else:
                warm = warmed_weight(kl_weight, record["steps"], KL_WARMUP_STEPS)
                loss, _, metric = family_loss(model, augment(pixels[batch], generator), generator, warm)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            record["steps"] += 1
            run_steps += 1
        record["epochs"] += 1
        if record["epochs"] % 10 == 0:
            what = "accuracy" if name == CLASSIFIER else "kl"
            print(f"{name}: epoch {record['epochs']} step {record['steps']} loss {loss.item():.2f} "
                  f"{what} {metric.item():.3f}", flush=True)
        if time.time() - last_checkpoint > CHECKPOINT_SECONDS:
            (CHECKPOINTS / name).mkdir(parents=True, exist_ok=True)
            save(model, optimizer, dict(record, minutes=minutes_so_far()), CHECKPOINTS / name)
            last_checkpoint = time.time()
    # 3. Write the model (and a checkpoint that continues it).
    record.update(minutes=minutes_so_far(), batch=BATCH, seed=SEED, threads=torch.get_num_threads())
    if name != CLASSIFIER:
        record["kl_warmup_steps"] = KL_WARMUP_STEPS
    model.eval()
    (CHECKPOINTS / name).mkdir(parents=True, exist_ok=True)
    save(model, optimizer, record, CHECKPOINTS / name)
    save(model, None, record, MODELS / name, half=name in {row[0] for row in BETA_FAMILY})
    print(f"{name}: {run_steps} steps; {record['minutes']:g} CPU minutes in all; wrote {name}: {record}", flush=True)


def write_digits(images, labels, shipped, train_rows):
    """The 500 shipped held-out digits, and the 4,000 training digits (for training live in the
    app), uint8, light ink on black."""
    for path, rows in ((TEST_DIGITS, shipped), (TRAIN_DIGITS, train_rows)):
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, images=images[rows], labels=labels[rows].astype(np.uint8))


def main():
    choices = [CLASSIFIER] + names(beta=True)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", choices=choices, help="a model to train (repeatable)")
    parser.add_argument("--all", action="store_true", help="train the classifier and the whole family (β weights too)")
    parser.add_argument("--minutes", type=float, default=3.0, help="CPU minutes per model")
    parser.add_argument("--steps", type=int, help="train this many steps instead of --minutes")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if not args.all and not args.model:
        parser.error("name a --model or use --all")
    torch.set_num_threads(args.threads)

    images, labels = load_mnist()
    train_rows, shipped, _ = split(images, labels)
    write_digits(images, labels, shipped, train_rows)
    pixels = torch.from_numpy(images[train_rows].astype(np.float32) / 255)  # (4000, 28, 28)
    pool = torch.from_numpy(no_digit_pictures(NO_DIGIT_POOL, SEED))  # (8000, 28, 28) for the classifier
    data = (pixels, torch.from_numpy(labels[train_rows]), pool)
    for name in choices if args.all else args.model:
        train(name, args.minutes, data, args.steps)


if __name__ == "__main__":
    main()
