"""Train the 2-D latent map's VAE on handwritten digits (scikit-learn's `load_digits`).

    python -m latent_lab.training.train_digits --minutes 5

A small fully connected VAE (`latent_lab.digits8.DigitsVAE`) whose latent has two numbers:
every digit becomes a point in a plane. Writes config.json, the weights and the held-out test
digits (test_digits.npz) to --out. Small enough to train from scratch in minutes, so it does
not resume.
"""

import argparse
import json
from pathlib import Path
import time

import numpy as np
import torch

from latent_lab.config import DIGITS_VAE
from latent_lab.digits8 import DigitsVAE, to_pixels

BATCH = 64
LR = 1e-3
PIXEL_NOISE = 0.1  # the decoder's assumed pixel noise in [0, 1] units: smaller, sharper digits, looser map
KL_WARMUP = 0.3  # share of the time over which the KL weight ramps up from 0 (keeps both axes in use)
TEST_SHARE = 0.2
HIDDEN = 256


def load_digit_data(seed=0):
    """(train images, train labels, test images, test labels); images (N, 8, 8) uint8 0-16."""
    from sklearn.datasets import load_digits  # training only: the app reads test_digits.npz

    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    images, labels = digits.images.astype(np.uint8)[order], digits.target[order]
    split = int(len(labels) * (1 - TEST_SHARE))
    return images[:split], labels[:split], images[split:], labels[split:]


def elbo_loss(vae, pixels, generator, kl_weight=1.0):
    """Negative ELBO per digit: squared error under Gaussian pixel noise + KL to N(0, I)."""
    mean, logvar = vae.encode(pixels)
    z = mean + (0.5 * logvar).exp() * torch.randn(mean.shape, generator=generator)
    error = ((vae.decode(z) - pixels) / 2).pow(2).sum(dim=(1, 2)) / (2 * PIXEL_NOISE**2)
    kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)
    return (error + kl_weight * kl).mean(), kl.mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--out", default=str(DIGITS_VAE))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    train_images, train_labels, test_images, test_labels = load_digit_data()
    pixels = to_pixels(train_images)
    vae = DigitsVAE(hidden=HIDDEN).train()
    optimizer = torch.optim.AdamW(vae.parameters(), lr=LR)
    total = args.minutes * 60
    generator = torch.Generator().manual_seed(0)
    start, step, epoch = time.time(), 0, 0
    while time.time() - start < total:
        for batch in torch.randperm(len(pixels), generator=generator).split(BATCH):
            progress = min(1.0, (time.time() - start) / total)
            for group in optimizer.param_groups:  # cosine decay over the time budget
                group["lr"] = LR * 0.5 * (1 + np.cos(np.pi * progress))
            loss, kl = elbo_loss(vae, pixels[batch], generator, min(1.0, progress / KL_WARMUP))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        epoch += 1
        if epoch % 100 == 0:
            print(f"epoch {epoch}  step {step}  loss {loss.item():.2f}  kl {kl.item():.2f}", flush=True)

    out = Path(args.out)
    vae.eval()
    vae.save_pretrained(out, safe_serialization=True)  # 0.7 MB in fp32: no need to round
    np.savez_compressed(out / "test_digits.npz", images=test_images, labels=test_labels)
    with torch.no_grad():
        test_loss, test_kl = elbo_loss(vae, to_pixels(test_images), generator)
    record = {"epochs": epoch, "steps": step, "batch": BATCH, "pixel_noise": PIXEL_NOISE,
              "test_negative_elbo": round(test_loss.item(), 3), "test_kl": round(test_kl.item(), 3)}
    (out / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}: {record}")


if __name__ == "__main__":
    main()
