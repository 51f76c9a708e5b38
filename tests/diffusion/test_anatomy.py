"""latent_lab/diffusion/anatomy.py on a tiny pipeline: its parts as plain JSON."""

import json

import numpy as np
import torch

from latent_lab.diffusion import anatomy


def test_anatomy_lists_the_parts_as_json(pipe):
    report = anatomy.anatomy(pipe)
    parts = {entry["name"]: entry for entry in report["components"]}
    assert {"unet", "vae", "text_encoder", "tokenizer", "scheduler"} <= set(parts)
    assert "safety_checker" not in parts  # None components are skipped
    for name in ("unet", "vae", "text_encoder"):
        assert parts[name]["parameters"] > 0 and parts[name]["dtype"] == "float32"
    assert parts["vae"]["parameters"] == sum(p.numel() for p in pipe.vae.parameters())
    config = parts["scheduler"]["config"]
    assert parts["scheduler"]["class"] == "DDIMScheduler" and config["beta_schedule"] == "scaled_linear"
    assert not any(key.startswith("_") for key in config)
    assert report["total_parameters"] == sum(parts[n]["parameters"] for n in ("unet", "vae", "text_encoder"))
    assert json.loads(json.dumps(report, allow_nan=False)) == report


def test_json_safe_converts_config_values():
    value = {"betas": (0.1, 0.2), "array": np.arange(3), "scalar": np.float32(0.5), "_private": 1,
             "nested": {"t": torch.tensor([1, 2])}, "inf": float("inf"), "none": None}
    assert anatomy.json_safe(value) == {"betas": [0.1, 0.2], "array": [0, 1, 2], "scalar": 0.5,
                                        "nested": {"t": [1, 2]}, "inf": "inf", "none": None}
