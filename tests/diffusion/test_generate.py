import numpy as np
import pytest

from latent_lab import models
from latent_lab.diffusion import generate
from latent_lab.diffusion.generate import Request
from latent_lab.checks import InputError
from tests.diffusion.held import HeldUNet, close_while_held


@pytest.fixture(scope="module")
def pipe(tiny_pipeline_folder):
    return models.load_pipeline(str(tiny_pipeline_folder))


def pixels(picture):
    return np.asarray(picture, dtype=np.int16)


def test_scheduler_list_comes_from_the_pipeline(pipe):
    names = generate.scheduler_classes(pipe)
    assert len(names) >= 5
    assert {"DDIMScheduler", "EulerDiscreteScheduler", "DPMSolverMultistepScheduler"} <= set(names)
    assert generate.default_scheduler(pipe) == "DPMSolverMultistepScheduler"


def test_fresh_scheduler_never_changes_the_pipeline(pipe):
    before = type(pipe.scheduler)
    scheduler = generate.fresh_scheduler(pipe, "EulerDiscreteScheduler")
    assert type(scheduler).__name__ == "EulerDiscreteScheduler"
    assert scheduler.config.beta_schedule == pipe.scheduler.config.beta_schedule
    generate.generate(pipe, Request("a red circle", scheduler="EulerDiscreteScheduler", steps=2))
    assert type(pipe.scheduler) is before


def test_every_scheduler_makes_a_finite_picture_and_same_seed_same_picture(pipe):
    pictures = {}
    for name in generate.scheduler_classes(pipe):
        picture, summary = generate.generate(pipe, Request("a blue square", scheduler=name, steps=4, seed=7), "tiny")
        assert picture.size == (64, 64)
        assert summary["scheduler"] == name and summary["steps"] == 4 and summary["model"] == "tiny"
        pictures[name] = pixels(picture)
    again, _ = generate.generate(pipe, Request("a blue square", scheduler="DDIMScheduler", steps=4, seed=7))
    assert np.array_equal(pixels(again), pictures["DDIMScheduler"])
    assert not np.array_equal(pictures["DDIMScheduler"], pictures["EulerDiscreteScheduler"])


def test_stream_yields_previews_then_the_result(pipe):
    events = [event for event in generate.stream(pipe, Request("a green star", steps=6, seed=1), "tiny", preview_every=2)
              if event[0] != "wait"]  # waits come as the clock goes, between the others
    kinds = [kind for kind, _, _ in events]
    assert kinds == ["preview", "preview", "done"]
    assert [step for kind, _, step in events[:2]] == [2, 4]
    final, _ = generate.generate(pipe, Request("a green star", steps=6, seed=1))
    assert np.array_equal(pixels(events[-1][1]), pixels(final))  # previews do not change the result


@pytest.mark.parametrize("change, message", [
    (dict(scheduler="NoSuchScheduler"), "Unknown scheduler"),
    (dict(steps=0), "Steps"), (dict(steps=1000), "Steps"), (dict(steps=2.5), "Steps"),
    (dict(guidance_scale=float("nan")), "Guidance"), (dict(guidance_scale=-1), "Guidance"),
    (dict(seed=-5), "Seed"), (dict(seed=2**40), "Seed"),
    (dict(width=100), "multiples of 8"), (dict(height=4096), "Height"),
])
def test_bad_requests_are_refused_clearly(pipe, change, message):
    with pytest.raises(InputError, match=message):
        generate.generate(pipe, Request(**{"prompt": "a cat", "steps": 2, **change}))


def test_a_scheduler_that_cannot_run_says_what_to_try(pipe):
    with pytest.raises(generate.GenerationError, match="PNDMScheduler .* Try more steps"):
        generate.generate(pipe, Request("a cat", scheduler="PNDMScheduler", steps=2))
    picture, _ = generate.generate(pipe, Request("a cat", scheduler="PNDMScheduler", steps=4))
    assert picture.size == (64, 64)


def test_empty_and_overlong_prompts_are_explained(pipe):
    _, summary = generate.generate(pipe, Request("", steps=2))
    assert "unconditional" in " ".join(summary["notes"])
    _, summary = generate.generate(pipe, Request("red " * 2500, steps=2))
    assert "cut to the model's limit of 77 tokens" in " ".join(summary["notes"])


def test_latent_lab_pipeline_selects_a_hub_style_folder(monkeypatch, tiny_pipeline_folder):
    from latent_lab.config import Settings
    monkeypatch.setenv("LATENT_LAB_PIPELINE", str(tiny_pipeline_folder))
    pipe = models.load_pipeline(Settings.from_env().pipeline)
    assert type(pipe).__name__ == "StableDiffusionPipeline"
    picture, _ = generate.generate(pipe, Request("a cat", steps=2))
    assert picture.size == (64, 64)


def test_embedded_schedulers_never_clip_the_latents():
    """DDIM and DDPM clip their predicted sample to [-1, 1] unless the config says not to:
    right for pixels, wrong for latents of unit variance."""
    from latent_lab.config import EMBEDDED_PIPELINE

    embedded = models.load_pipeline(str(EMBEDDED_PIPELINE))
    names = generate.scheduler_classes(embedded)
    assert {"DDIMScheduler", "DDPMScheduler"} <= set(names)
    assert [name for name in names if generate.fresh_scheduler(embedded, name).config.get("clip_sample")] == []


def test_a_generation_closed_early_stops_at_the_next_step_and_frees_the_lock(pipe):
    """The client left (Gradio closes the stream): the step under way finishes, no other starts."""
    unet = HeldUNet(pipe.unet, hold_at=3)
    events = generate.stream(pipe, Request("a green star", steps=20, seed=1), "tiny", preview_every=2)
    calls_at_close = close_while_held(events, unet, ("preview", 2))  # decoded after the 2nd step; the 3rd is held
    assert (calls_at_close, unet.calls) == (3, 3)  # of 20 steps: none started after the close
