"""Measure a VAE on pictures it never saw in training.

    python -m latent_lab.training.evaluate [--vae assets/models/latent-lab-vae]

Prints the reconstruction PSNR of held-out procedural scenes and held-out photo crops at
256x256, how much one σ of noise changes the decoded picture, and the KL of each channel
(a channel whose KL is ~0 has collapsed onto the prior and carries no information).
"""

import argparse
import json

import numpy as np
import torch

from latent_lab import vae as vae_ops
from latent_lab.config import EMBEDDED_VAE
from latent_lab.imaging import to_tensor
from latent_lab.models import load_vae
from latent_lab.training.photos import HELD_OUT_PHOTOS, load_photos
from latent_lab.training.scenes import random_texture_scene
from latent_lab.training.train_vae import BATCH, training_batch

SIZE = 256
HELD_OUT_SEED = 1_000_000  # training draws scenes from seeds [0, step]; these are far away


def held_out_scenes(count=16):
    return [random_texture_scene(np.random.default_rng([HELD_OUT_SEED, i]), SIZE) for i in range(count)]


def held_out_photo_crops():
    """Three 256x256 crops (left, centre, right) of each held-out photo at half its size."""
    crops = []
    for photo in load_photos(HELD_OUT_PHOTOS):
        photo = photo.resize((max(SIZE, photo.width // 2), max(SIZE, photo.height // 2)))
        top = (photo.height - SIZE) // 2
        for left in (0, (photo.width - SIZE) // 2, photo.width - SIZE):
            crops.append(photo.crop((left, top, left + SIZE, top + SIZE)))
    return crops


@torch.no_grad()
def measure(vae, pictures, seed=0):
    """Mean PSNR of decode(μ); mean change (in % of the 0-255 range) that one σ of noise makes;
    mean KL per latent element of each channel."""
    psnrs, changes, kls = [], [], []
    for index, picture in enumerate(pictures):
        posterior = vae_ops.encode(vae, picture)
        latents = torch.cat([posterior.mean, vae_ops.sample(posterior, 1, 1.0, seed + index)])
        reconstruction, noisy = vae_ops.decode(vae, latents)
        psnrs.append(vae_ops.psnr(to_tensor(picture)[0], reconstruction))
        changes.append(((noisy - reconstruction).abs().mean() / 2 * 100).item())
        if posterior.has_sigma:
            kls.append(vae_ops.kl_map(posterior, vae).mean(dim=(0, 2, 3)).tolist())
    return {"psnr_db": float(np.mean(psnrs)), "sigma_change_percent": float(np.mean(changes)),
            "kl_per_channel": np.mean(kls, axis=0).round(4).tolist() if kls else None, "pictures": len(pictures)}


@torch.no_grad()
def prior_closeness(vae, samples=16, bank=512, size=64, seed=0):
    """How much decodes of z ~ N(0, I) look like training pictures: the mean PSNR of each
    decode against its nearest neighbour among `bank` training crops (higher is closer).
    A model whose latents fill N(0, I) decodes random z to picture-like patches; one whose
    latents sit elsewhere (a plain autoencoder) decodes them to something no picture resembles."""
    crops = torch.cat([training_batch(step, size=size, seed=2) for step in range(bank // BATCH)])
    latent = (samples, vae.config.latent_channels, size // vae_ops.scale_factor(vae), size // vae_ops.scale_factor(vae))
    decodes = vae_ops.decode(vae, torch.randn(latent, generator=torch.Generator().manual_seed(seed)))
    mse = ((decodes[:, None] - crops[None]) / 2).pow(2).mean(dim=(2, 3, 4))  # (samples, bank)
    return float((10 * torch.log10(1 / mse.min(dim=1).values)).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vae", default=str(EMBEDDED_VAE))
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    vae = load_vae(args.vae)
    results = {"scenes": measure(vae, held_out_scenes()), "photos": measure(vae, held_out_photo_crops())}
    for name, result in results.items():
        print(f"{name:7s} PSNR {result['psnr_db']:6.2f} dB   one σ changes {result['sigma_change_percent']:.2f} %"
              f"   KL per channel {result['kl_per_channel']}   ({result['pictures']} pictures, {SIZE}x{SIZE})")
    results["prior_closeness_db"] = prior_closeness(vae)
    print(f"decodes of z ~ N(0, I): {results['prior_closeness_db']:.2f} dB from their nearest training crop")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
