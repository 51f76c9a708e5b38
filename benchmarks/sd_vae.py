"""The real Stable Diffusion VAE architecture (random weights) on the CPU: FLOPs and FLOP/s of one
encode and one decode, naive fp32 beside the app's path, against this machine's matmul peak.

FLOPs are counted by torch.utils.flop_counter.FlopCounterMode (convolutions, matmuls and
attention; one multiply-add is 2 FLOPs). The peak is what a large torch.matmul reaches here.
"""

import contextlib
import json
import os
from pathlib import Path
import time

import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from latent_lab import imaging, models, vae as vae_ops

CONFIG = Path(__file__).resolve().parent / "sd-vae-config.json"  # SD 1.x's vae/config.json


def build_sd_vae(seed=0):
    """AutoencoderKL with SD 1.x's architecture and random weights (timing needs no trained ones)."""
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    return AutoencoderKL.from_config(json.loads(CONFIG.read_text())).eval().requires_grad_(False)


def native_bf16():
    """True when this CPU computes bf16 in hardware (AVX512-BF16, AMX or ARM's bf16); without it,
    oneDNN emulates bf16 and it is many times slower than fp32."""
    return any(flag in models.cpu_flags() for flag in models.BF16_FLAGS)


@contextlib.contextmanager
def forced_precision(bf16):
    """Run the app's path in bf16 (True) or fp32 (False) whatever models.cpu_bf16() decided;
    None leaves the decision alone."""
    if bf16 is None:
        yield
        return
    before = os.environ.get(models.BF16_VARIABLE)
    os.environ[models.BF16_VARIABLE] = "1" if bf16 else "0"
    try:
        yield
    finally:
        if before is None:
            del os.environ[models.BF16_VARIABLE]
        else:
            os.environ[models.BF16_VARIABLE] = before


def matmul_peak(dtype=torch.float32, size=2048, seconds=2.0):
    """FLOP/s of the fastest (size x size) @ (size x size) product within `seconds` (after one warm-up)."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    torch.matmul(a, b)
    best, started = float("inf"), time.perf_counter()
    while time.perf_counter() - started < seconds or best == float("inf"):
        tick = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - tick)
    return 2 * size**3 / best


def conv_peak(dtype=torch.float32, channels=128, side=128, seconds=2.0):
    """FLOP/s of the fastest 3x3 convolution (channels_last, shaped like the decoder's) within
    `seconds`: oneDNN's convolutions can run faster than a large torch.matmul."""
    generator = torch.Generator().manual_seed(0)
    pixels = torch.randn(1, channels, side, side, generator=generator).to(dtype, memory_format=torch.channels_last)
    weight = torch.randn(channels, channels, 3, 3, generator=generator).to(dtype, memory_format=torch.channels_last)
    with torch.inference_mode():
        torch.nn.functional.conv2d(pixels, weight, padding=1)
        best, started = float("inf"), time.perf_counter()
        while time.perf_counter() - started < seconds or best == float("inf"):
            tick = time.perf_counter()
            torch.nn.functional.conv2d(pixels, weight, padding=1)
            best = min(best, time.perf_counter() - tick)
    return 2 * side * side * channels * channels * 9 / best


def _cpu_attention_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs):
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def count_flops(action):
    """Run `action` once and return the FLOPs it computed."""
    # FlopCounterMode knows the GPU attention kernels but not the CPU one; count it the same way.
    cpu_attention = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_attention_flops}
    with FlopCounterMode(display=False, custom_mapping=cpu_attention) as counter:
        action()
    return counter.get_total_flops()


# The naive path: plain diffusers calls in fp32, default memory layout, under no_grad.
@torch.no_grad()
def naive_encode(vae, pixels):
    return vae.encode(pixels).latent_dist.mean  # (1, 4, H/8, W/8), unscaled


@torch.no_grad()
def naive_decode(vae, latents):
    return vae.decode(latents).sample  # (1, 3, H, W)


# The app's path: latent_lab.vae under inference_mode, on a model placed by latent_lab.models.place,
# its decoder in the precision models.cpu_bf16() chose (or the one forced by `bf16`).
def app_encode(vae, image):
    return vae_ops.encode(vae, image).mean  # (1, 4, H/8, W/8), scaled


def app_decode(vae, scaled_latents, bf16=None):
    with forced_precision(bf16):
        return vae_ops.decode(vae, scaled_latents)  # (N, 3, H, W) in [-1, 1]


def random_picture(side, seed=0):
    """A smooth random RGB picture (side x side): the VAE's speed does not depend on content."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand((1, 3, 8, 8), generator=generator)
    pixels = torch.nn.functional.interpolate(coarse, size=(side, side), mode="bicubic").clamp(0, 1)
    return imaging.to_pil(pixels[0] * 2 - 1)


def bf16_quality(vae, image):
    """How much bf16 autocast costs in quality when decoding `image`'s posterior mean (dB):
    PSNR of the bf16 decode against the fp32 one, and the picture's PSNR with each."""
    scaled = vae_ops.encode(vae, image).mean
    fp32, bf16 = app_decode(vae, scaled, bf16=False), app_decode(vae, scaled, bf16=True)
    original = imaging.to_tensor(image)
    return {"bf16_vs_fp32_db": vae_ops.psnr(fp32, bf16), "fp32_reconstruction_db": vae_ops.psnr(original, fp32),
            "bf16_reconstruction_db": vae_ops.psnr(original, bf16)}
