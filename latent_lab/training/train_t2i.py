"""Train the embedded text-to-image model: a small UNet and CLIP text encoder that denoise
the embedded VAE's latents of captioned procedural scenes.

    python -m latent_lab.training.train_t2i --minutes 60 [--out FOLDER] [--threads 1]

Resumes from checkpoints/t2i/last.pt, or from the weights in --start (the committed ones), and
exports the moving average of the weights to --out (the committed folder unless told otherwise).
The latents of the training scenes are cached in data/ (keyed by the VAE's weights), so the VAE
runs once.
"""

import argparse
import copy
import hashlib
import json
import os
from pathlib import Path
import time

import numpy as np
import torch
from diffusers import AutoencoderKL, DDPMScheduler, DPMSolverMultistepScheduler, UNet2DConditionModel
from safetensors.torch import load_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from latent_lab.config import EMBEDDED_PIPELINE, EMBEDDED_VAE
from latent_lab.imaging import to_tensor
from latent_lab.training.scenes import COLOURS, COUNT_WORDS, POSITIONS, SHAPES, SIZES, random_scene

# Knobs
BATCH = 32
IMAGE_SIZE = 128  # 16x16 latents
SCENES = 8_000  # their latents are cached once; the encoder is the slow part on a CPU
LR = 3e-4
UNCONDITIONAL = 0.1  # share of empty captions, for classifier-free guidance
# Offset noise: a random shift of each latent channel, added to the noise. Without it the mean of
# a 16x16 latent leaks through the noise at the last timesteps, so the model learns to read the
# background colour from the starting noise instead of from the prompt.
NOISE_OFFSET = 0.15
# Low-frequency noise, the same idea on coarse grids: {cells per side: std}, smoothly upsampled.
# A 16x16 latent's coarse layout (where the shapes are) leaks through the noise at the last
# timesteps too, so the model learnt to find the shapes in the starting noise: where they land
# followed the seed and ignored the position words. This hides most of that leak in training: at the
# last timestep a shape shows as ~0.1 in the latent, the 4x4-cell noise now has a std of ~0.5.
LOW_FREQUENCY_NOISE = {2: 0.3, 4: 0.3}
EMA_DECAY = 0.998  # the exported weights are this moving average of the trained ones
# Min-SNR weighting (Hang et al. 2023): the loss of a timestep is weighted by min(SNR, gamma) / SNR.
# Nearly clean latents (high SNR) are easy and would otherwise take most of the gradient; the noisy
# timesteps, where the layout (and so the position words) is decided, keep their full weight.
MIN_SNR_GAMMA = 5.0
# A floor under that weight, in the same terms: the loss on the clean latent (x0) is weighted by
# clamp(SNR, SNR_FLOOR, gamma), so the noise loss by clamp(SNR, SNR_FLOOR, gamma) / SNR, up to 21 at
# the last timestep. The layout is decided in the first denoising steps, where the picture is almost
# all noise; there an ε-prediction error costs only SNR times the error in the picture it implies
# (0.005 at the last timestep), so where the shapes go was hardly trained at all.
SNR_FLOOR = 0.1
# Share of captions that keep the size and the position words (positions are drawn evenly, so
# the five phrases are balanced). Steps 4,980-7,000 kept the position words in every caption, and
# prompts without them drifted (a white background came out pink): 0.8 keeps short prompts working.
SIZE_WORDS = 0.7
POSITION_WORDS = 0.8
# Share of each batch drawn from the noisiest timesteps (t >= HIGH_NOISE_FROM), where nothing of the
# layout is visible yet and only the caption can say where the shapes go.
HIGH_NOISE_SHARE = 0.5
HIGH_NOISE_FROM = 600
# Caption attributes read back from the text encoder's output by a small linear head, weighted by this
# in the loss. Trained on the diffusion loss alone, the encoder gave "left" and "right" nearly the
# same code (0.4 apart at the word, 0.03 after it, against 14 for two colours): the UNet ignored
# the position words, so they got no gradient, so the UNet could not tell them apart. The head
# gives every word of the caption a distinct code from the start.
ATTRIBUTE_LOSS = 0.1
WARMUP = 100  # steps of rising learning rate whenever a run starts with a fresh optimizer
CHECKPOINT_EVERY = 100
EXPORT_EVERY = 1000
# (colour, shape) pairs never drawn in training: the held-out prompts of evaluate_t2i.
HELD_OUT_PAIRS = {("red", "star"), ("blue", "triangle"), ("green", "square"), ("yellow", "diamond"),
                  ("purple", "circle"), ("orange", "square"), ("pink", "star"), ("cyan", "triangle")}

UNET = dict(
    sample_size=IMAGE_SIZE // 8, in_channels=4, out_channels=4, layers_per_block=1,
    block_out_channels=(64, 128, 192), cross_attention_dim=128, attention_head_dim=4,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
)
TEXT_ENCODER = dict(
    vocab_size=49408, hidden_size=128, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4,
    max_position_embeddings=77, bos_token_id=49406, eos_token_id=49407, pad_token_id=49407,
)
# Stable Diffusion's noise schedule, with its settings for every scheduler that may be swapped in
# (DDIM and DDPM would otherwise clip the predicted latent to [-1, 1]).
NOISE_SCHEDULE = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                      prediction_type="epsilon", steps_offset=1, clip_sample=False, set_alpha_to_one=False,
                      skip_prk_steps=True)


def training_scenes(count=SCENES, seed=0):
    """Random captioned scenes, without the held-out (colour, shape) pairs."""
    rng = np.random.default_rng(seed)
    scenes = []
    while len(scenes) < count:
        scene = random_scene(rng)
        if (scene.colour, scene.shape) not in HELD_OUT_PAIRS:
            scenes.append(scene)
    return scenes


def encoder_digest(vae_folder):
    """A digest of the VAE's encoder weights and scaling factor: they alone decide the latents
    (the decoder may change)."""
    weights = load_file(Path(vae_folder) / "diffusion_pytorch_model.safetensors")
    scale = json.loads((Path(vae_folder) / "config.json").read_text())["scaling_factor"]
    digest = hashlib.sha256(str(scale).encode())
    for name in sorted(n for n in weights if n.startswith(("encoder.", "quant_conv."))):
        digest.update(name.encode() + weights[name].numpy().tobytes())
    return digest.hexdigest()[:16]


@torch.no_grad()
def latent_cache(vae_folder, scenes, cache_folder="data"):
    """Posterior mean and std (scaled units, fp16) of every scene: (N, 4, 16, 16) each, cached
    per encoder."""
    path = Path(cache_folder) / f"t2i-latents-{encoder_digest(vae_folder)}-{len(scenes)}.pt"
    if path.exists():
        return torch.load(path, weights_only=True)
    vae = AutoencoderKL.from_pretrained(vae_folder, torch_dtype=torch.float32).eval()
    scale = vae.config.scaling_factor
    means, stds = [], []
    for start in range(0, len(scenes), 64):
        rng = np.random.default_rng(start)
        pixels = torch.cat([to_tensor(s.render(IMAGE_SIZE, rng)) for s in scenes[start:start + 64]])
        posterior = vae.encode(pixels).latent_dist
        means.append((posterior.mean * scale).half())
        stds.append((posterior.std * scale).half())
        if start % 3200 == 0:
            print(f"encoded {start}/{len(scenes)} scenes", flush=True)
    cache = {"mean": torch.cat(means), "std": torch.cat(stds)}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(cache, path)
    return cache


def export(unet, text_encoder, tokenizer, out, step):
    """Write a StableDiffusionPipeline folder whose vae/ links to the embedded VAE."""
    out = Path(out)
    for name, model in (("unet", unet), ("text_encoder", text_encoder)):
        copy.deepcopy(model).to(torch.float16).save_pretrained(out / name, safe_serialization=True)
    tokenizer.save_pretrained(out / "tokenizer")
    DPMSolverMultistepScheduler.from_config(NOISE_SCHEDULE).save_pretrained(out / "scheduler")
    vae_link = out / "vae"
    if not vae_link.exists():
        vae_link.symlink_to(os.path.relpath(EMBEDDED_VAE, out))
    index = {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.42.1",
             "feature_extractor": [None, None], "image_encoder": [None, None], "requires_safety_checker": False,
             "safety_checker": [None, None], "scheduler": ["diffusers", "DPMSolverMultistepScheduler"],
             "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
             "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]}
    (out / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")
    record = {"step": step, "batch": BATCH, "image_size": IMAGE_SIZE, "scenes": SCENES, "noise_offset": NOISE_OFFSET,
              "low_frequency_noise": LOW_FREQUENCY_NOISE, "min_snr_gamma": MIN_SNR_GAMMA, "snr_floor": SNR_FLOOR,
              "attribute_loss": ATTRIBUTE_LOSS,
              "high_noise_share": HIGH_NOISE_SHARE, "high_noise_from": HIGH_NOISE_FROM,
              "position_words": POSITION_WORDS, "ema_decay": EMA_DECAY, "vae_encoder": encoder_digest(EMBEDDED_VAE)}
    (out / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"exported step {step} to {out}", flush=True)


ATTRIBUTES = {"colour": list(COLOURS), "shape": list(SHAPES), "background": list(COLOURS),
              "position": ["none", *POSITIONS], "size": ["none", *SIZES], "count": list(COUNT_WORDS)}


def attribute_labels(scene, caption):
    """The class index of each of ATTRIBUTES for one caption of `scene` ("none" where the caption
    leaves a word out): {name: int}."""
    position = scene.position if scene.position in caption else "none"
    size = scene.size if scene.size in caption.split() else "none"
    values = {"colour": scene.colour, "shape": scene.shape, "background": scene.background,
              "position": position, "size": size, "count": scene.count}
    return {name: ATTRIBUTES[name].index(values[name]) for name in ATTRIBUTES}


class AttributeHead(torch.nn.Linear):
    """Logits of every caption attribute from the text encoder's pooled output."""

    def __init__(self, width):
        super().__init__(width, sum(len(v) for v in ATTRIBUTES.values()))

    def loss(self, pooled, labels):
        """Summed cross-entropy of the attributes; `labels` {name: (B,) long}."""
        logits = torch.split(self(pooled), [len(v) for v in ATTRIBUTES.values()], dim=1)
        return sum(torch.nn.functional.cross_entropy(part, labels[name]) for part, name in zip(logits, ATTRIBUTES))


def min_snr_weights(noise_schedule, timesteps, gamma, floor=None):
    """clamp(SNR, floor, gamma) / SNR per timestep, SNR = alpha_bar / (1 - alpha_bar): (B,)."""
    alpha_bar = noise_schedule.alphas_cumprod[timesteps]
    snr = alpha_bar / (1 - alpha_bar)
    return snr.clamp(min=floor, max=gamma) / snr


def diffusion_loss(unet, text_encoder, tokenizer, latents, captions, noise_schedule, generator, snr_gamma=None,
                   head=None, labels=None, snr_floor=None):
    """Mean squared error of the UNet's noise prediction on `latents` noised to random timesteps,
    each timestep weighted by clamp(SNR, snr_floor, snr_gamma) / SNR when snr_gamma is given; plus
    ATTRIBUTE_LOSS times the attribute head's loss on the captioned rows when `head` is given
    (`labels` {name: (B,) long}, rows with an empty caption left out)."""
    tokens = tokenizer(captions, padding="max_length", max_length=tokenizer.model_max_length,
                       truncation=True, return_tensors="pt").input_ids
    batch, channels = latents.shape[:2]
    noise = torch.randn(latents.shape, generator=generator)
    noise += NOISE_OFFSET * torch.randn((batch, channels, 1, 1), generator=generator)
    for cells, std in LOW_FREQUENCY_NOISE.items():
        coarse = torch.randn((batch, channels, cells, cells), generator=generator)  # (B, 4, cells, cells)
        noise += std * torch.nn.functional.interpolate(coarse, size=latents.shape[-2:], mode="bilinear")
    last = noise_schedule.config.num_train_timesteps
    timesteps = torch.randint(0, last, (batch,), generator=generator)
    noisiest = torch.randint(HIGH_NOISE_FROM, last, (batch,), generator=generator)
    timesteps = torch.where(torch.rand(batch, generator=generator) < HIGH_NOISE_SHARE, noisiest, timesteps)
    noisy = noise_schedule.add_noise(latents, noise, timesteps)
    text = text_encoder(tokens)
    prediction = unet(noisy, timesteps, encoder_hidden_states=text.last_hidden_state).sample
    error = ((prediction - noise) ** 2).mean(dim=(1, 2, 3))  # (B,)
    if snr_gamma is not None:
        error = error * min_snr_weights(noise_schedule, timesteps, snr_gamma, snr_floor)
    if head is None:
        return error.mean()
    captioned = torch.tensor([bool(c) for c in captions])
    attributes = head.loss(text.pooler_output[captioned], {k: v[captioned] for k, v in labels.items()})
    return error.mean() + ATTRIBUTE_LOSS * attributes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--lr", type=float, default=LR)
    parser.add_argument("--start", default=str(EMBEDDED_PIPELINE), help="weights to start from without a checkpoint")
    parser.add_argument("--out", default=str(EMBEDDED_PIPELINE), help="where the averaged weights are exported")
    parser.add_argument("--export-every", type=int, default=EXPORT_EVERY)
    parser.add_argument("--checkpoints", default="checkpoints/t2i")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start_from, out, checkpoint = Path(args.start), Path(args.out), Path(args.checkpoints) / "last.pt"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)

    # 1. Data: captioned scenes and their cached latents.
    scenes = training_scenes()
    cache = latent_cache(EMBEDDED_VAE, scenes)
    tokenizer = CLIPTokenizer.from_pretrained(start_from / "tokenizer")

    # 2. Models, from a checkpoint, the committed weights, or new; and their moving average.
    step = 0
    if (start_from / "unet" / "config.json").exists() and not checkpoint.exists():
        unet = UNet2DConditionModel.from_pretrained(start_from / "unet", torch_dtype=torch.float32)
        text_encoder = CLIPTextModel.from_pretrained(start_from / "text_encoder", torch_dtype=torch.float32)
        step = json.loads((start_from / "training.json").read_text())["step"]
        print(f"resumed from the weights in {start_from} at step {step}")
    else:
        unet, text_encoder = UNet2DConditionModel(**UNET), CLIPTextModel(CLIPTextConfig(**TEXT_ENCODER))
    head = AttributeHead(text_encoder.config.hidden_size)
    parameters = list(unet.parameters()) + list(text_encoder.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=args.lr, weight_decay=1e-2)
    head_optimizer = torch.optim.AdamW(head.parameters(), lr=args.lr)
    fresh_optimizer = not checkpoint.exists()
    ema_unet, ema_text_encoder = copy.deepcopy(unet).eval(), copy.deepcopy(text_encoder).eval()
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=True)
        unet.load_state_dict(state["unet"])
        text_encoder.load_state_dict(state["text_encoder"])
        optimizer.load_state_dict(state["optimizer"])
        ema_unet.load_state_dict(state.get("ema_unet", state["unet"]))
        ema_text_encoder.load_state_dict(state.get("ema_text_encoder", state["text_encoder"]))
        step = state["step"]
        if "head" in state:
            head.load_state_dict(state["head"])
            head_optimizer.load_state_dict(state["head_optimizer"])
        print(f"resumed from {checkpoint} at step {step}")
    ema_parameters = list(ema_unet.parameters()) + list(ema_text_encoder.parameters())
    print(f"UNet {sum(p.numel() for p in unet.parameters()) / 1e6:.2f} M, "
          f"text encoder {sum(p.numel() for p in text_encoder.parameters()) / 1e6:.2f} M parameters")
    noise_schedule = DDPMScheduler.from_config(NOISE_SCHEDULE)

    def save():
        torch.save({"unet": unet.state_dict(), "text_encoder": text_encoder.state_dict(),
                    "ema_unet": ema_unet.state_dict(), "ema_text_encoder": ema_text_encoder.state_dict(),
                    "optimizer": optimizer.state_dict(), "head": head.state_dict(),
                    "head_optimizer": head_optimizer.state_dict(), "step": step}, checkpoint)

    # 3. Train: predict the noise added to a latent, given the caption.
    unet.train(), text_encoder.train()
    start, last_print, first_step = time.time(), time.time(), step
    while time.time() - start < args.minutes * 60:
        if fresh_optimizer:  # Adam's first moments are noisy: let the learning rate rise
            for group in optimizer.param_groups:
                group["lr"] = args.lr * min(1.0, (step - first_step + 1) / WARMUP)
        rng = np.random.default_rng([1, step])
        generator = torch.Generator().manual_seed(step)
        index = torch.from_numpy(rng.integers(0, len(scenes), BATCH))
        latents = cache["mean"][index].float() + cache["std"][index].float() * torch.randn(
            (BATCH, 4, IMAGE_SIZE // 8, IMAGE_SIZE // 8), generator=generator)
        captions = ["" if rng.random() < UNCONDITIONAL else scenes[i].caption(rng, SIZE_WORDS, POSITION_WORDS)
                    for i in index.tolist()]
        rows = [attribute_labels(scenes[i], c) for i, c in zip(index.tolist(), captions)]
        labels = {name: torch.tensor([row[name] for row in rows]) for name in ATTRIBUTES}
        loss = diffusion_loss(unet, text_encoder, tokenizer, latents, captions, noise_schedule, generator,
                              MIN_SNR_GAMMA, head, labels, SNR_FLOOR)
        optimizer.zero_grad(set_to_none=True)
        head_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        head_optimizer.step()
        with torch.no_grad():
            torch._foreach_lerp_(ema_parameters, parameters, 1 - EMA_DECAY)
        step += 1
        if step % 50 == 0:
            rate = 50 / (time.time() - last_print)
            last_print = time.time()
            print(f"step {step}  loss {loss.item():.4f}  {rate:.2f} steps/s", flush=True)
        if step % CHECKPOINT_EVERY == 0:
            save()
        if step % args.export_every == 0:
            export(ema_unet, ema_text_encoder, tokenizer, out, step)
    save()
    export(ema_unet, ema_text_encoder, tokenizer, out, step)


if __name__ == "__main__":
    main()
