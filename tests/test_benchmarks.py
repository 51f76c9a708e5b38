"""The benchmark helpers on tiny models: FLOP counts, the matmul peak, and the app's fast path."""

import json

import pytest
import torch

from benchmarks import run, sd_vae
from latent_lab import models
from tests.conftest import make_tiny_vae


def test_flops_of_a_convolution_and_of_cpu_attention():
    pixels, weight = torch.randn(1, 3, 8, 8), torch.randn(4, 3, 3, 3)
    # 2 FLOPs per multiply-add: (8 * 8 outputs) * 4 channels * (3 * 3 * 3) weights each.
    assert sd_vae.count_flops(lambda: torch.nn.functional.conv2d(pixels, weight, padding=1)) == 2 * 64 * 4 * 27
    q = torch.randn(1, 1, 64, 32)  # 64 tokens of 32 dimensions: q k^T and then (.) v
    assert sd_vae.count_flops(lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q)) == 2 * (2 * 64 * 64 * 32)


def test_flops_of_a_tiny_vae_decode_grow_with_the_picture():
    vae = make_tiny_vae()
    small = sd_vae.count_flops(lambda: sd_vae.naive_decode(vae, torch.zeros(1, 4, 2, 2)))
    large = sd_vae.count_flops(lambda: sd_vae.naive_decode(vae, torch.zeros(1, 4, 4, 4)))
    assert small > 0 and large == pytest.approx(4 * small, rel=0.01)  # 4x the pixels: 4x the convolutions


def test_matmul_peak_is_positive():
    assert sd_vae.matmul_peak(torch.float32, size=64, seconds=0.01) > 0


def test_the_app_path_decodes_as_the_naive_one():
    naive = make_tiny_vae()
    latents = torch.randn(2, 4, 4, 4, generator=torch.Generator().manual_seed(0))  # unscaled
    expected = sd_vae.naive_decode(naive, latents).clamp(-1, 1)
    placed = models.place(make_tiny_vae())  # same seed: same weights, channels_last
    assert next(p for p in placed.parameters() if p.dim() == 4).is_contiguous(memory_format=torch.channels_last)
    fast = sd_vae.app_decode(placed, latents * placed.config.scaling_factor)
    assert fast.shape == (2, 3, 32, 32)
    assert (fast - expected).abs().max() < 1e-3


def test_the_sd_config_is_stable_diffusions_vae():
    config = json.loads(sd_vae.CONFIG.read_text())
    assert config["block_out_channels"] == [128, 256, 512, 512] and config["layers_per_block"] == 2
    assert config["latent_channels"] == 4 and config["scaling_factor"] == 0.18215


def test_targets_say_by_how_much_they_are_missed():
    assert run.check("decode", 0.6, 0.5, " s")["missed_by_pct"] == pytest.approx(20)
    assert run.check("speed-up", 1.6, 2.0, "x", at_least=True)["missed_by_pct"] == pytest.approx(25)
    assert run.check("speed-up", 2.5, 2.0, "x", at_least=True)["met"] is True


def test_targets_say_when_this_machine_cannot_reach_them(capsys):
    run.print_targets([run.check("8 samples", 3.0, 1.5, " s", best_possible=1.9),
                       run.check("speed-up", 1.2, 2.0, "x", at_least=True, best_possible=2.5)])
    lines = capsys.readouterr().out.strip().splitlines()[1:]
    assert lines[0].endswith("the best this machine allows: 1.9 s (out of reach)")
    assert lines[1].endswith("the best this machine allows: 2.5x")
