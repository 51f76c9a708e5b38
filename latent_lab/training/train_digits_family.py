"""Train the digits family and the digit classifier on MNIST's 5,000-digit sample.

    python -m latent_lab.training.train_digits_family --all --minutes 3
    python -m latent_lab.training.train_digits_family --model digits-vae-16 --minutes 2

Each model trains for --minutes of CPU time (so a busy machine gives the same steps), then is written to assets/models/<name>/
(config.json + safetensors + training.json). A run resumes from checkpoints/digits/<name>/ when
there is one (written every minute), else from the committed weights when they exist, so a
rerun continues where the last one stopped. No model ever sees the held-out digits; 500 of them
are written to assets/models/digits-test/ for the app.
"""

import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from latent_lab.digits.models import CLASSIFIER, FAMILY, MODELS, NO_DIGIT, TEST_DIGITS, DigitClassifier, DigitsAutoencoder
from latent_lab.training.mnist import augment, crossfades, load_mnist, no_digit_pictures, split

SEED = 0
BATCH = 128
LR = 2e-3  # a fresh model; cosine decay to LR / 20 over the run
RESUME_LR = 5e-4  # a model that continues
KL_WARMUP_STEPS = 1500  # the KL weight ramps from 0 to its value: every number gets used before the KL prunes
NO_DIGIT_SHARE = 0.25  # of each classifier batch: crossfades of two digits and no-digit pictures
NO_DIGIT_POOL = 8000
BLUR_SHARE = 0.3  # of the classifier's digits, softened like a decoder's output
CHECKPOINT_SECONDS = 60
CHECKPOINTS = MODELS.parent.parent / "checkpoints" / "digits"


def family_loss(model, pixels, generator, kl_weight):
    """Negative ELBO per digit (at kl_weight 1): Bernoulli BCE summed over pixels + KL to N(0, I).
    An autoencoder decodes μ itself and has no KL. Returns (loss, bce, kl)."""
    mean, logvar = model.encode(pixels)  # (B, d) each
    if logvar is None:
        z, kl = mean, torch.zeros(len(mean))
    else:
        z = mean + (0.5 * logvar).exp() * torch.randn(mean.shape, generator=generator)
        kl = 0.5 * (mean**2 + logvar.exp() - 1 - logvar).sum(dim=1)
    bce = F.binary_cross_entropy_with_logits(model.decode_logits(z), pixels, reduction="none").sum(dim=(1, 2))
    return (bce + kl_weight * kl).mean(), bce.mean(), kl.mean()


def soften(pixels, generator):
    """Blur a random BLUR_SHARE of (B, 28, 28) digits by a random amount (a 3x3 box, blended)."""
    blurred = F.avg_pool2d(pixels[:, None], 3, stride=1, padding=1)[:, 0]
    amount = torch.rand(len(pixels), 1, 1, generator=generator) * (torch.rand(len(pixels), 1, 1, generator=generator) < BLUR_SHARE)
    return (1 - amount) * pixels + amount * blurred


def classifier_loss(model, pixels, labels, generator, pool):
    """Cross-entropy on digits (augmented, some softened) and NO_DIGIT pictures. Returns (loss, accuracy)."""
    negatives = int(len(pixels) * NO_DIGIT_SHARE)
    mixed = crossfades(pixels[:negatives], labels[:negatives], generator)
    noise = pool[torch.randint(len(pool), (negatives - len(mixed),), generator=generator)]
    inputs = torch.cat([soften(pixels[negatives:], generator), mixed, augment(noise, generator)])
    targets = torch.cat([labels[negatives:], torch.full((negatives,), NO_DIGIT)])
    logits = model(inputs)
    return F.cross_entropy(logits, targets), (logits.argmax(1) == targets).float().mean()


def start(name):
    """(model, optimizer state or None, record): from the checkpoint, else the committed weights, else new."""
    kind = DigitClassifier if name == CLASSIFIER else DigitsAutoencoder
    for folder in (CHECKPOINTS / name, MODELS / name):
        if (folder / "config.json").exists():
            model = kind.from_pretrained(folder, use_safetensors=True)
            state = torch.load(folder / "optimizer.pt", weights_only=True) if (folder / "optimizer.pt").exists() else None
            record = json.loads((folder / "training.json").read_text())
            print(f"{name}: resuming from {folder.parent.name}/{name} at step {record['steps']}", flush=True)
            return model, state, record
    torch.manual_seed(SEED)
    if name == CLASSIFIER:
        return DigitClassifier(), None, {"steps": 0, "epochs": 0, "minutes": 0.0}
    _, kind_name, latent_dim, kl_weight = next(row for row in FAMILY if row[0] == name)
    return DigitsAutoencoder(kind=kind_name, latent_dim=latent_dim, kl_weight=kl_weight), None, {"steps": 0, "epochs": 0, "minutes": 0.0}


def save(model, optimizer, record, folder):
    model.save_pretrained(folder, safe_serialization=True)
    if optimizer is not None:
        torch.save(optimizer.state_dict(), folder / "optimizer.pt")
    (folder / "training.json").write_text(json.dumps(record, indent=2) + "\n")


def train(name, minutes, data):
    """Train `name` for `minutes` of CPU time, checkpointing every CHECKPOINT_SECONDS, then write it to assets/models/."""
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
    # 2. Epochs until the CPU time is up, learning rate on a cosine over the budget.
    began, last_checkpoint = time.process_time(), time.time()
    budget, run_steps = minutes * 60, 0
    while time.process_time() - began < budget:
        for batch in torch.randperm(len(pixels), generator=generator).split(BATCH):
            progress = min(1.0, (time.process_time() - began) / budget)
            for group in optimizer.param_groups:
                group["lr"] = peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
            if name == CLASSIFIER:
                loss, metric = classifier_loss(model, augment(pixels[batch], generator), labels[batch], generator, pool)
            else:
                warm = kl_weight * min(1.0, record["steps"] / KL_WARMUP_STEPS)
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
            save(model, optimizer, dict(record, minutes=round(record["minutes"] + (time.process_time() - began) / 60, 2)),
                 CHECKPOINTS / name)
            last_checkpoint = time.time()
    # 3. Write the model (and a checkpoint that continues it).
    record.update(minutes=round(record["minutes"] + (time.process_time() - began) / 60, 2), batch=BATCH, seed=SEED,
                  kl_warmup_steps=KL_WARMUP_STEPS, threads=torch.get_num_threads())
    model.eval()
    (CHECKPOINTS / name).mkdir(parents=True, exist_ok=True)
    save(model, optimizer, record, CHECKPOINTS / name)
    save(model, None, record, MODELS / name)
    print(f"{name}: {run_steps} steps in {minutes:g} min; wrote {name}: {record}", flush=True)


def write_test_digits(images, labels, shipped):
    """The 500 shipped held-out digits (uint8, light ink on black) for the app."""
    TEST_DIGITS.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(TEST_DIGITS, images=images[shipped], labels=labels[shipped].astype(np.uint8))


def main():
    names = [CLASSIFIER] + [row[0] for row in FAMILY]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", choices=names, help="a model to train (repeatable)")
    parser.add_argument("--all", action="store_true", help="train the classifier and the whole family")
    parser.add_argument("--minutes", type=float, default=3.0, help="CPU minutes per model")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if not args.all and not args.model:
        parser.error("name a --model or use --all")
    torch.set_num_threads(args.threads)

    images, labels = load_mnist()
    train_rows, shipped, _ = split(images, labels)
    write_test_digits(images, labels, shipped)
    pixels = torch.from_numpy(images[train_rows].astype(np.float32) / 255)  # (4000, 28, 28)
    data = (pixels, torch.from_numpy(labels[train_rows]), torch.from_numpy(no_digit_pictures(NO_DIGIT_POOL, SEED)))
    for name in names if args.all else args.model:
        train(name, args.minutes, data)


if __name__ == "__main__":
    main()
