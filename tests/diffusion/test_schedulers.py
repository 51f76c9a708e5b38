"""latent_lab/diffusion/schedulers.py on a tiny pipeline: one picture per scheduler."""

import json

import numpy as np
import pytest

from latent_lab.diffusion import schedulers
from latent_lab.checks import InputError
from tests.conftest import pixels


def test_compare_schedulers_gives_one_picture_per_scheduler(pipe):
    names = ["DDIMScheduler", "EulerDiscreteScheduler", "DPMSolverMultistepScheduler"]
    result = schedulers.compare_schedulers(pipe, "a red circle", names, steps=2, guidance_scale=3, seed=7, model="tiny")
    assert len(result.gallery) == 3
    assert all(picture.size == (64, 64) for picture, _ in result.gallery)
    assert result.gallery[1][1].startswith("EulerDiscreteScheduler: 2 steps, ") and result.gallery[1][1].endswith(" s")
    summary = result.summary
    assert [r["scheduler"] for r in summary["results"]] == names and all(r["seconds"] > 0 for r in summary["results"])
    assert (summary["prompt"], summary["seed"], summary["steps"]) == ("a red circle", 7, 2)
    again = schedulers.compare_schedulers(pipe, "a red circle", names[:1], steps=2, guidance_scale=3, seed=7)
    assert np.array_equal(pixels(again.gallery[0][0]), pixels(result.gallery[0][0]))
    json.dumps(summary)


@pytest.mark.parametrize("names, message", [
    ([], "1 to 6"), (["DDIMScheduler", "NoSuchScheduler"], "Unknown scheduler"), ([3], "class names"),
    (["DDIMScheduler", "EulerDiscreteScheduler", "DPMSolverMultistepScheduler", "LMSDiscreteScheduler",
      "HeunDiscreteScheduler", "PNDMScheduler", "DDPMScheduler"], "1 to 6"),
])
def test_compare_schedulers_refuses_bad_names_before_running(pipe, names, message):
    with pytest.raises(InputError, match=message):
        schedulers.compare_schedulers(pipe, "a cat", names, steps=2)
