"""One cached loader for every model: a local diffusers folder or a hub id, same code path.

This module alone decides where models run (device), in which precision (dtype and, on the CPU,
bf16 autocast) and in which memory layout (channels_last for the VAE).
"""

import contextlib
from dataclasses import dataclass
from functools import cache
import os
from pathlib import Path
import platform
import socket
import threading
import time
from urllib.parse import urlparse

import torch

BF16_VARIABLE = "LATENT_LAB_BF16"  # "auto" (default): bf16 where this CPU computes it faster; "0": never; "1": always
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")  # CPU flags of bf16 arithmetic in hardware: x86 (two), ARM
# "auto" times one bf16 convolution against fp32 and takes bf16 when it runs at least this much faster:
# where the CPU flags name bf16 units, only a torch build that emulates bf16 (3-10x slower) falls
# short, however loaded the machine is; where the flags are unknown, bf16 must clearly win.
BF16_MIN_SPEEDUP = {"flags": 0.8, "unknown": 1.25}

_lock = threading.Lock()
_bf16_lock = threading.Lock()


class ModelUnavailableError(RuntimeError):
    """A configured model could not be loaded; the message names the setting to change."""


def device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def dtype():
    """fp16 on a GPU; fp32 on the CPU, where fp16 is slow (the CPU's faster path is autocast(), below)."""
    return torch.float16 if device().type == "cuda" else torch.float32


@dataclass(frozen=True)
class Precision:
    """Whether the VAE's decoder runs in bf16 on this CPU, and why, in a sentence."""

    use: bool
    reason: str


def cpu_bf16():
    """The CPU's precision for the VAE (decoder and encoder), decided once per setting of LATENT_LAB_BF16.

    bf16 halves the memory traffic of the decoder's convolutions and doubles their arithmetic
    rate where the CPU computes bf16 in hardware (AVX512-BF16, AMX); without it, oneDNN emulates
    bf16 and it is slower than fp32.
    """
    setting = os.environ.get(BF16_VARIABLE, "auto").strip().lower() or "auto"
    if setting not in ("auto", "0", "1"):
        raise ModelUnavailableError(f"{BF16_VARIABLE}={setting!r} is not a valid setting. Set it to 'auto' (bf16 where "
                         f"this CPU computes it faster), '0' (always fp32) or '1' (always bf16), or unset it.")
    with _bf16_lock:  # two first requests at once: one test convolution, one answer
        return _cpu_bf16(setting)


@cache
def _cpu_bf16(setting):
    return bf16_decision(setting, cpu_flags(), bf16_conv_speedup)


def bf16_decision(setting, flags, conv_speedup):
    """The Precision for a LATENT_LAB_BF16 `setting` on a CPU with these `flags`; conv_speedup()
    times a bf16 convolution against fp32, and is called only where the flags leave it open."""
    if setting == "0":
        return Precision(False, f"{BF16_VARIABLE}=0: fp32")
    named = [flag for flag in BF16_FLAGS if flag in flags]
    if setting == "1":
        note = f"{named[0]} in CPU flags" if named else (
            "no native bf16 on this CPU: slower than fp32" if flags else "CPU flags unknown")
        return Precision(True, f"{BF16_VARIABLE}=1: bf16 ({note})")
    if flags and not named:  # Linux tells us: no bf16 units, so no need to time it
        return Precision(False, f"no native bf16 ({torch.backends.cpu.get_cpu_capability()}, "
                                f"no {', '.join(BF16_FLAGS[:-1])} or {BF16_FLAGS[-1]} in CPU flags): fp32")
    speedup = conv_speedup()
    found = f"{named[0]} in CPU flags" if named else f"CPU flags unknown ({platform.machine() or 'this CPU'})"
    if speedup >= BF16_MIN_SPEEDUP["flags" if named else "unknown"]:
        return Precision(True, f"{found}, bf16 convolution {speedup:.1f}x as fast as fp32: bf16")
    return Precision(False, f"{found}, but bf16 convolution only {speedup:.2f}x as fast as fp32: fp32")


def cpu_flags():
    """The CPU's feature flags as Linux lists them (an empty set elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):  # x86, ARM
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


@torch.inference_mode()
def bf16_conv_speedup(channels=128, side=64, repeats=10):
    """fp32 time over bf16 time of one 3x3 convolution shaped like the decoder's (channels_last),
    best of `repeats` each, interleaved so that both see the same load. About 40 ms on a CPU with
    bf16 units."""
    generator = torch.Generator().manual_seed(0)
    pixels = torch.randn(1, channels, side, side, generator=generator).to(memory_format=torch.channels_last)
    weight = torch.randn(channels, channels, 3, 3, generator=generator).to(memory_format=torch.channels_last)
    inputs = {torch.float32: (pixels, weight), torch.bfloat16: (pixels.bfloat16(), weight.bfloat16())}
    best = {}
    for attempt in range(repeats + 1):  # attempt 0 warms up (oneDNN builds its kernels)
        for kind, (x, w) in inputs.items():
            started = time.perf_counter()
            torch.nn.functional.conv2d(x, w, padding=1)
            if attempt:
                best[kind] = min(best.get(kind, float("inf")), time.perf_counter() - started)
    return best[torch.float32] / best[torch.bfloat16]


def autocast(model):
    """The context a model's forward pass runs in: bf16 autocast (convolutions and matmuls in bf16)
    for an fp32 model on a CPU where cpu_bf16() says so; otherwise nothing, and fp16 models on a
    GPU run as they are."""
    parameter = next(model.parameters())
    if parameter.device.type == "cpu" and parameter.dtype == torch.float32 and cpu_bf16().use:
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def place(vae):
    """Put a loaded VAE where it runs, in eval mode and without gradients. Its convolutions use the
    channels_last memory layout: faster on CPU (see benchmarks/run.py), same results to float rounding."""
    return vae.to(device(), memory_format=torch.channels_last).eval().requires_grad_(False)


def set_threads(threads):
    """Use `threads` CPU threads (0: one per physical core, torch's default). Called once, before
    serving: torch's thread count is shared by the whole process (and by MKL), so a request that
    changed it would change it for every other request running at the same time."""
    if threads > 0:
        torch.set_num_threads(threads)


def _resolve(source, variable, what):
    """(path or hub id, subfolder, reachable) for `source`; refuse folders that do not exist."""
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelUnavailableError(f"{variable}={source} is a file, not a diffusers model folder. "
                                        f"Set {variable} to a folder with a {what}, or unset it.")
        if what == "VAE" and not (path / "config.json").exists() and (path / "vae" / "config.json").exists():
            return str(path), "vae", True  # a whole pipeline folder: use its VAE
        if what != "VAE" and not (path / "model_index.json").exists():
            raise ModelUnavailableError(
                f"The folder {path.name} holds no text-to-image pipeline (no model_index.json). Train the embedded "
                f"one with `python -m latent_lab.training.train_t2i`, or set {variable} to a diffusers "
                f"text-to-image folder or hub id.")
        return str(path), None, True
    if source.startswith(("/", ".", "~")) or source.count("/") != 1:
        raise ModelUnavailableError(f"{variable}={source} is neither an existing folder nor a hub id "
                                    f"like 'owner/name'. Set {variable} to one, or unset it to use the embedded model.")
    if not _hub_reachable():  # only a copy already in the local hub cache can be used
        return source, None, False
    return source, "vae" if what == "VAE" and _is_pipeline_repo(source) else None, True


def _hub_reachable(timeout=3.0):
    """One quick connection attempt, instead of the hub client's minutes of retries."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    address = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((address.hostname, address.port or 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _is_pipeline_repo(repo_id):
    """True when a hub repo is a whole pipeline (its VAE sits in the `vae` subfolder)."""
    from huggingface_hub import file_exists
    return file_exists(repo_id, "model_index.json")


def _load(load, source, variable, what):
    name, subfolder, reachable = _resolve(source, variable, what)
    try:
        with _lock:
            return load(name, subfolder=subfolder, torch_dtype=dtype(), use_safetensors=True,
                        local_files_only=not reachable and not Path(name).exists())
    except Exception as error:
        reason = "the model hub cannot be reached and no copy is cached here" if not reachable else (
            str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__)
        raise ModelUnavailableError(
            f"Could not load the {what} '{source}' ({reason}). Set {variable} to a local diffusers "
            f"folder or a reachable hub id, or unset it to use the embedded model.") from error


@cache
def load_vae(source):
    """An AutoencoderKL (or any diffusers autoencoder, e.g. AutoencoderTiny) in eval mode."""
    from diffusers import AutoModel

    vae = place(_load(AutoModel.from_pretrained, source, "LATENT_LAB_VAE", "VAE"))
    if device().type == "cpu":
        cpu_bf16()  # decide the decoder's precision now, while loading: a bad setting is refused here
    return vae


@cache
def load_pipeline(source):
    """A diffusers text-to-image pipeline (for example a StableDiffusionPipeline)."""
    from diffusers import DiffusionPipeline

    def load(name, subfolder, **kwargs):
        return DiffusionPipeline.from_pretrained(name, safety_checker=None, requires_safety_checker=False, **kwargs)

    pipe = _load(load, source, "LATENT_LAB_PIPELINE", "text-to-image pipeline")
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device())


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())
