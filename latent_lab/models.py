"""One cached loader for every model: a local diffusers folder or a hub id, same code path.

This module alone decides where models run (device), in which precision (dtype) and in which
memory layout (channels_last for the VAE).
"""

from functools import cache
from pathlib import Path
import socket
import threading
from urllib.parse import urlparse

import torch

_lock = threading.Lock()


class ModelUnavailableError(RuntimeError):
    """A configured model could not be loaded; the message names the setting to change."""


def device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def dtype():
    """fp16 on a GPU; fp32 on the CPU, where fp16 is slow and bf16 changes results."""
    return torch.float16 if device().type == "cuda" else torch.float32


def place(vae):
    """Put a loaded VAE where it runs, in eval mode and without gradients. Its convolutions use the
    channels_last memory layout: faster on CPU (see benchmarks/run.py), same results to float rounding."""
    return vae.to(device(), memory_format=torch.channels_last).eval().requires_grad_(False)


def set_threads(threads):
    """Use `threads` CPU threads (0: one per physical core, torch's default)."""
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

    return place(_load(AutoModel.from_pretrained, source, "LATENT_LAB_VAE", "VAE"))


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
