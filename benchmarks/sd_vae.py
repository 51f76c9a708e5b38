"""The real Stable Diffusion VAE architecture (random weights) on the CPU: FLOPs and FLOP/s of one
encode and one decode, naive fp32 beside the app's path, against this machine's matmul peak.

FLOPs are counted by torch.utils.flop_counter.FlopCounterMode (convolutions, matmuls and
attention; one multiply-add is 2 FLOPs). The peak is what a large torch.matmul reaches here.
`part` is part 4 of benchmarks.run; `compute_rates` the compute peaks every part compares with.
"""

import contextlib
import json
import os
from pathlib import Path
import time

import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from benchmarks.report import check, median_seconds, not_applicable
from latent_lab import imaging, models, vae as vae_ops

CONFIG = Path(__file__).resolve().parent / "sd-vae-config.json"  # SD 1.x's vae/config.json
# Its targets (2 CPU cores).
SD_DECODE_SPEEDUP = 2.0  # app path against naive fp32, 512 px
SD_BF16_OF_LIMIT = 1.3  # decode time within this factor of FLOPs / bf16 compute peak (CPUs with native bf16)
SLOW_BF16_SIDE = 64  # px: where bf16 is emulated (no native support) it is timed on a small picture only


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


def compute_rates(args, bf16=True):
    """{"fp32": (matmul FLOP/s, convolution FLOP/s)} and the same for "bf16": a compute peak is the
    faster of the two (oneDNN's convolutions can beat the BLAS matmul, e.g. MKL on AMD CPUs)."""
    rates = {"fp32": (matmul_peak(torch.float32, args.matmul_size), conv_peak(torch.float32))}
    if bf16:
        native = native_bf16()  # emulated bf16: minutes at 2048, so one small product
        rates["bf16"] = (matmul_peak(torch.bfloat16, args.matmul_size if native else 512, 2.0 if native else 0.0),
                         conv_peak(torch.bfloat16, seconds=2.0 if native else 0.0))
    return rates


def part(args, targets):
    """Part 4: the SD VAE architecture, naive fp32 against the app's path in fp32 and in bf16, against
    the compute peak."""
    side, bf16_native, decision = args.sd_size, native_bf16(), models.cpu_bf16()
    print(f"\n== Stable Diffusion VAE architecture (random weights), {side} px, median of {args.sd_repeats} ==")
    rates = compute_rates(args)
    peak = {kind: max(rate) for kind, rate in rates.items()}
    print("compute peak (matmul, 3x3 convolution): " + ", ".join(
              f"{kind} ({matmul / 1e9:.0f}, {conv / 1e9:.0f}) GFLOP/s" for kind, (matmul, conv) in rates.items())
          + f"; native bf16 on this CPU: "
          f"{'yes' if bf16_native else 'no'} ({torch.backends.cpu.get_cpu_capability()})")
    print(f"{'path':30s} {'step':7s} {'seconds':>8s} {'GFLOP':>8s} {'GFLOP/s':>8s} {'of peak':>8s} {'peak MiB':>9s}")
    rows = []

    def measure(path, step, action, dtype="fp32", repeats=args.sd_repeats, flops=None):
        if flops is None:
            flops = count_flops(action)  # the counting run is also the warm-up
        seconds, mib = median_seconds(action, repeats, warm_up=False)
        row = {"path": path, "step": step, "seconds": seconds, "flops": flops, "flop_per_s": flops / seconds,
               "of_peak": flops / seconds / peak[dtype], "dtype": dtype, "peak_rss_mib": mib}
        rows.append(row)
        print(f"{path:30s} {step:7s} {seconds:8.2f} {flops / 1e9:8.0f} {flops / seconds / 1e9:8.1f} "
              f"{row['of_peak']:7.0%} {mib:9.0f}", flush=True)
        return row

    image = random_picture(side)
    pixels = imaging.to_tensor(image)  # (1, 3, side, side)
    vae = build_sd_vae()
    latents = naive_encode(vae, pixels)  # (1, 4, side/8, side/8)
    naive_encode_row = measure("naive fp32", "encode", lambda: naive_encode(vae, pixels))
    naive_decode_row = measure("naive fp32", "decode", lambda: naive_decode(vae, latents))
    naive_picture = naive_decode(vae, latents).clamp(-1, 1)

    vae = models.place(vae)  # the app's layout (channels_last), inference_mode in latent_lab.vae
    scaled = latents * vae.config.scaling_factor
    fast_encode = measure("app fp32 (channels_last)", "encode", lambda: app_encode(vae, image))
    fast_decode = measure("app fp32 (channels_last)", "decode", lambda: app_decode(vae, scaled, bf16=False))
    difference = (app_decode(vae, scaled, bf16=False) - naive_picture).abs().max().item()
    print(f"app fp32 against naive: encode {naive_encode_row['seconds'] / fast_encode['seconds']:.2f}x, decode "
          f"{naive_decode_row['seconds'] / fast_decode['seconds']:.2f}x faster; largest pixel difference {difference:.1e} (of 2). "
          f"Naive fp32 decodes at {naive_decode_row['of_peak']:.0%} of the fp32 compute peak: in fp32 it can be at most "
          f"{1 / naive_decode_row['of_peak']:.2f}x faster")

    # bf16 autocast: timed at full size where the CPU has bf16 units; elsewhere on a small picture,
    # beside fp32 at that size, because emulated bf16 convolutions are many times slower.
    bf16_side = side if bf16_native else SLOW_BF16_SIDE
    small = app_encode(vae, random_picture(bf16_side))
    fp32_small = fast_decode if bf16_native else measure(f"app fp32 at {bf16_side} px", "decode",
                                                         lambda: app_decode(vae, small), repeats=1)
    bf16_row = measure(f"app bf16 autocast at {bf16_side} px", "decode", lambda: app_decode(vae, small, bf16=True),
                       dtype="bf16", repeats=args.sd_repeats if bf16_native else 1,
                       flops=None if bf16_native else fp32_small["flops"])  # no warm-up: emulated bf16 is slow
    bf16_speedup = fp32_small["seconds"] / bf16_row["seconds"]
    print(f"bf16 autocast against fp32 at {bf16_side} px: {bf16_speedup:.2f}x as fast"
          f"{'' if bf16_native else ' (bf16 emulated in software on this CPU)'}")
    app_decode_row = bf16_row if decision.use and bf16_side == side else fast_decode  # the path the app takes here
    targets.append(check(f"SD VAE decode at {side} px, speed-up over naive fp32 ({app_decode_row['dtype']})",
                         naive_decode_row["seconds"] / app_decode_row["seconds"], SD_DECODE_SPEEDUP, "x", at_least=True))
    if bf16_native:
        limit_factor = 1 / bf16_row["of_peak"]  # seconds / (FLOPs / bf16 compute peak)
        targets.append(check(f"SD VAE bf16 decode at {side} px, times the bf16 compute limit", limit_factor, SD_BF16_OF_LIMIT, "x"))
    else:
        targets.append(not_applicable("SD VAE decode within 1.3x of the bf16 compute limit",
                                      f"this CPU has no native bf16; emulated bf16 decodes at {bf16_speedup:.2f}x the "
                                      f"speed of fp32, so the app stays in fp32"))
    return {"side": side, "native_bf16": bf16_native, "matmul_peak_flop_per_s": peak,
            "compute_rates_flop_per_s": rates,
            "rows": rows, "app_vs_naive_max_difference": difference, "bf16_side": bf16_side, "bf16_speedup": bf16_speedup}
