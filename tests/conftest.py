"""Shared fixtures: tiny models built in the test, and picture files made on the fly."""

import socket

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKL
from PIL import Image

from latent_lab.config import EXAMPLES


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_tiny_vae(seed=0):
    """A randomly initialised AutoencoderKL with SD's latent contract (4 channels, 8x down)."""
    torch.manual_seed(seed)
    vae = AutoencoderKL(
        block_out_channels=(8, 16, 16, 16), layers_per_block=1, latent_channels=4, norm_num_groups=8,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        mid_block_add_attention=False, scaling_factor=0.5)
    return vae.eval().requires_grad_(False)


@pytest.fixture(scope="session")
def tiny_vae():
    return make_tiny_vae()


@pytest.fixture(scope="session")
def tiny_vae_folder(tmp_path_factory, tiny_vae):
    folder = tmp_path_factory.mktemp("tiny-vae")
    tiny_vae.save_pretrained(folder, safe_serialization=True)
    return folder


def photo_like(width=96, height=64, seed=0):
    """A smooth random colour picture (a gradient plus blobs), as an RGB PIL image."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (4, 6, 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize((width, height), Image.BICUBIC)


@pytest.fixture
def photo_file(tmp_path):
    path = tmp_path / "photo.png"
    photo_like().save(path)
    return path


def make_tiny_pipeline(vae):
    """A StableDiffusionPipeline of tiny random models and the project's real CLIP tokenizer."""
    from diffusers import DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
    from latent_lab.config import EMBEDDED_PIPELINE

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(16, 32),
        norm_num_groups=8, cross_attention_dim=16, attention_head_dim=2,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"))
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=49408, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        max_position_embeddings=77, bos_token_id=49406, eos_token_id=49407, pad_token_id=49407))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False)
    return StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder.eval(), tokenizer=CLIPTokenizer.from_pretrained(EMBEDDED_PIPELINE / "tokenizer"),
        unet=unet.eval(), scheduler=scheduler, safety_checker=None, feature_extractor=None, requires_safety_checker=False)


@pytest.fixture(scope="session")
def tiny_pipeline_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-pipeline")
    make_tiny_pipeline(make_tiny_vae()).save_pretrained(folder, safe_serialization=True)
    return folder


@pytest.fixture(scope="session")
def served_app(tiny_pipeline_folder):
    """The real app on its embedded VAE, served once for the whole test session (the running
    Blocks). Its text-to-image pipeline is the embedded one when this checkout has one, else a
    tiny one made here."""
    import dataclasses
    import app
    from ui import common
    from latent_lab.config import EMBEDDED_PIPELINE
    if not (EMBEDDED_PIPELINE / "model_index.json").exists():
        common.settings = dataclasses.replace(common.settings, pipeline=str(tiny_pipeline_folder))
    demo = app.serve(prevent_thread_lock=True, server_port=free_port(), quiet=True)
    yield demo
    demo.close()


@pytest.fixture(scope="session")
def app_url(served_app):
    return served_app.local_url


def small_copies(folder, names, side):
    """PNG copies of example photos `names`, shrunk to fit `side`: quick requests to the app."""
    paths = []
    for name in names:
        picture = Image.open(EXAMPLES / name).convert("RGB")
        picture.thumbnail((side, side))
        paths.append(str(folder / name.replace(".jpg", ".png")))
        picture.save(paths[-1])
    return paths


SOURCE = "tiny-test-vae"  # how the tiny VAE is named in summaries


def pixels(picture):
    return np.asarray(picture, dtype=np.int16)


def close(first, second, tolerance=2):
    """Equal up to float rounding (pictures decoded in different batches)."""
    return np.abs(pixels(first) - pixels(second)).max() <= tolerance


@pytest.fixture
def two_files(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.jpg"
    photo_like(96, 64, seed=1).save(a)
    photo_like(120, 90, seed=2).save(b)
    return a, b


@pytest.fixture
def files(tmp_path):
    a, b, c = tmp_path / "a.png", tmp_path / "b.jpg", tmp_path / "c.png"
    photo_like(96, 64, seed=1).save(a)
    photo_like(120, 90, seed=2).save(b)
    photo_like(64, 64, seed=3).save(c)
    return a, b, c


@pytest.fixture(scope="module")
def point_vae():
    """A tiny autoencoder without σ."""
    from latent_lab.training.train_vae import make_point_posterior
    vae = make_tiny_vae(seed=1)
    make_point_posterior(vae)
    return vae


@pytest.fixture(scope="module")
def pipe():
    return make_tiny_pipeline(make_tiny_vae())
