"""Train the embedded VAE (or, with --kl-weight 0, a plain autoencoder) on data made offline.

    python -m latent_lab.training.train_vae --minutes 30
    python -m latent_lab.training.train_vae --decoder-only --sizes 64 128 256 --checkpoints checkpoints/vae-decoder

Resumes from checkpoints/vae/last.pt, or from the committed weights in --out when there is
no checkpoint (a fresh clone), and writes fp16 diffusers weights to --out as it goes.
--decoder-only trains the decoder alone: the latents stay as they are, so the text-to-image
model, which denoises them, stays valid. --sizes cycles the crop size; a step's batch shrinks
as its crops grow, so every step costs about the same.
"""

import argparse
import copy
import json
from pathlib import Path
import time

import numpy as np
import torch
from diffusers import AutoencoderKL

from latent_lab.config import EMBEDDED_VAE
from latent_lab.imaging import to_tensor
from latent_lab.training.photos import TRAIN_PHOTOS, load_photos, random_crop
from latent_lab.training.scenes import random_scene, random_texture_scene

# Knobs
BATCH = 16
CROP = 64  # the model is fully convolutional: trained on 64 px crops, used at any size
LR = 5e-4
KL_WEIGHT = 1e-2  # against per-pixel L1 + MSE; larger: blurrier but more visible samples
KL_WARMUP = 2000  # steps over which the KL weight ramps up from 0 (keeps all channels alive)
PHOTO_FRACTION = 0.5
CAPTIONED_FRACTION = 0.3  # of the drawn pictures: the text-to-image model's kind of scene
CHECKPOINT_EVERY = 200
EXPORT_EVERY = 500

ARCHITECTURE = dict(  # Stable Diffusion's latent contract (4 channels, 8x down), small widths
    in_channels=3, out_channels=3, latent_channels=4,
    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
    block_out_channels=(32, 64, 128, 128), layers_per_block=1,
    mid_block_add_attention=False,  # convolutions only: any image size, faster on a CPU
    sample_size=256,
)


def make_point_posterior(vae):
    """A plain autoencoder's encoder maps a picture to one point: set log σ² to -30 (the
    floor diffusers clamps to), so σ = 3e-7 everywhere and the app reports no σ."""
    channels = vae.config.latent_channels
    with torch.no_grad():
        vae.quant_conv.weight[channels:] = 0.0
        vae.quant_conv.bias[channels:] = -30.0


def drawn_picture(rng, size):
    if rng.random() < CAPTIONED_FRACTION:
        return random_scene(rng).render(size, rng)
    return random_texture_scene(rng, size)


def training_batch(step, size=CROP, batch=BATCH, seed=0):
    """Half procedural scenes, half photo crops; (B, 3, size, size) in [-1, 1]."""
    rng = np.random.default_rng([seed, step])
    photos = load_photos(TRAIN_PHOTOS)
    images = [random_crop(rng, photos, size) if rng.random() < PHOTO_FRACTION else drawn_picture(rng, size)
              for _ in range(batch)]
    return torch.cat([to_tensor(image) for image in images])


def batch_for(size):
    """Pictures per step at crop `size`: the pixels of BATCH crops of CROP, at least 2."""
    return max(2, BATCH * CROP**2 // size**2)


def vae_loss(vae, pixels, kl_weight, generator):
    """Reconstruction (L1 + MSE per pixel) + kl_weight * KL(q(z|x) || N(0, I)) per latent element."""
    posterior = vae.encode(pixels).latent_dist
    z = posterior.sample(generator) if kl_weight > 0 else posterior.mean  # plain AE: no noise
    recon = vae.decode(z).sample
    reconstruction = (recon - pixels).abs().mean() + (recon - pixels).pow(2).mean()
    kl = 0.5 * (posterior.mean.pow(2) + posterior.var - 1.0 - posterior.logvar).mean()
    return reconstruction + kl_weight * kl, reconstruction, kl


@torch.no_grad()
def scaling_factor(vae, batches=4):
    """1 / std of sampled latents over training data, so scaled latents have unit variance."""
    latents = [vae.encode(training_batch(step, seed=1)).latent_dist.sample() for step in range(batches)]
    return 1.0 / torch.cat(latents).std().item()


def export(vae, out, step, args):
    """Write fp16 diffusers weights and a small record of how they were trained."""
    vae.eval()
    if args.kl_weight == 0:
        make_point_posterior(vae)  # undo weight decay's drift
    if not args.decoder_only:  # the latents, and so their scale, stay as they were
        vae.register_to_config(scaling_factor=round(scaling_factor(vae), 5))
    copy.deepcopy(vae).to(torch.float16).save_pretrained(out, safe_serialization=True)
    vae.train()
    record = {"step": step, "kl_weight": args.kl_weight, "batch": BATCH, "crop": CROP, "lr": args.lr,
              "sizes": args.sizes, "decoder_only": args.decoder_only}
    (Path(out) / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"exported step {step} to {out} (scaling_factor {vae.config.scaling_factor})", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--kl-weight", type=float, default=KL_WEIGHT)
    parser.add_argument("--lr", type=float, default=LR)
    parser.add_argument("--out", default=str(EMBEDDED_VAE))
    parser.add_argument("--checkpoints", default="checkpoints/vae")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[CROP], help="crop sizes, cycled step by step")
    parser.add_argument("--decoder-only", action="store_true", help="train the decoder alone; the latents stay")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    checkpoint = Path(args.checkpoints) / "last.pt"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)

    # 1. Build the model, or resume from a checkpoint / the committed weights.
    vae, step = AutoencoderKL(**ARCHITECTURE), 0
    if (Path(args.out) / "diffusion_pytorch_model.safetensors").exists():  # its config too (scaling factor)
        vae = AutoencoderKL.from_pretrained(args.out, torch_dtype=torch.float32)
        if not checkpoint.exists():
            step = json.loads((Path(args.out) / "training.json").read_text())["step"]
            print(f"resumed from the weights in {args.out} at step {step}")
    if args.decoder_only:
        vae.encoder.requires_grad_(False)
        vae.quant_conv.requires_grad_(False)
    optimizer = torch.optim.AdamW([p for p in vae.parameters() if p.requires_grad], lr=args.lr)
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=True)
        vae.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        for group in optimizer.param_groups:  # --lr wins over the saved rate
            group["lr"] = args.lr
        step = state["step"]
        print(f"resumed from {checkpoint} at step {step}")
    if args.kl_weight == 0:
        make_point_posterior(vae)  # z = μ in training; the logvar rows get no gradient
    print(f"{sum(p.numel() for p in vae.parameters()) / 1e6:.2f} M parameters")

    # 2. Train until the time is up, saving as we go.
    vae.train()
    generator = torch.Generator().manual_seed(step)
    start, last_print = time.time(), time.time()
    while time.time() - start < args.minutes * 60:
        kl_weight = args.kl_weight * min(1.0, step / KL_WARMUP)
        size = args.sizes[step % len(args.sizes)]
        loss, reconstruction, kl = vae_loss(vae, training_batch(step, size, batch_for(size)), kl_weight, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step % 50 == 0:
            rate = 50 / (time.time() - last_print)
            last_print = time.time()
            print(f"step {step}  rec {reconstruction.item():.4f}  kl {kl.item():.3f}  {rate:.2f} steps/s", flush=True)
        if step % CHECKPOINT_EVERY == 0:
            torch.save({"model": vae.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, checkpoint)
        if step % EXPORT_EVERY == 0:
            export(vae, args.out, step, args)
    torch.save({"model": vae.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, checkpoint)
    export(vae, args.out, step, args)


if __name__ == "__main__":
    main()
