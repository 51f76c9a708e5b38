import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

from latent_lab import imaging, models, vae as vae_ops
from latent_lab.diffusion import generate, latent_walk
from latent_lab.cache import posteriors
from latent_lab.checks import InputError
from latent_lab.diffusion.generate import Request
from latent_lab.diffusion.latent_walk import WalkRequest
from tests.conftest import photo_like
from tests.diffusion.held import HeldUNet, close_while_held

WALK = dict(prompt_a="a red circle", prompt_b="a blue square", seed_a=3, seed_b=11, frames=5, steps=3)


@pytest.fixture(scope="module")
def pipe(tiny_pipeline_folder):
    return models.load_pipeline(str(tiny_pipeline_folder))


def pixels(picture):
    return np.asarray(picture, dtype=np.int16)


def end_pictures(pipe, scheduler, guidance_scale):
    """/generate's pictures of the two ends of WALK."""
    return [generate.generate(pipe, Request(prompt, scheduler=scheduler, steps=WALK["steps"],
                                            guidance_scale=guidance_scale, seed=seed))[0]
            for prompt, seed in ((WALK["prompt_a"], WALK["seed_a"]), (WALK["prompt_b"], WALK["seed_b"]))]


@pytest.mark.parametrize("scheduler, guidance_scale", [
    ("DPMSolverMultistepScheduler", 5.0), ("EulerAncestralDiscreteScheduler", 5.0), ("DDIMScheduler", 1.0)])
def test_walk_starts_and_ends_with_the_generate_pictures_bit_for_bit(pipe, scheduler, guidance_scale):
    request = WalkRequest(**WALK, scheduler=scheduler, guidance_scale=guidance_scale)
    pictures, summary, figure = latent_walk.walk_result(pipe, request, "tiny")
    first, last = end_pictures(pipe, scheduler, guidance_scale)
    assert np.array_equal(pixels(pictures[0]), pixels(first)) and np.array_equal(pixels(pictures[-1]), pixels(last))
    assert isinstance(figure, Figure)
    assert summary["step_noise"] == ("nearer end's seed" if scheduler.startswith("EulerAncestral") else "none")


def test_walk_summary_has_one_number_per_frame_or_step(pipe):
    pictures, summary, _ = latent_walk.walk_result(pipe, WalkRequest(**WALK), "tiny")
    assert len(pictures) == 5 and all(picture.size == (64, 64) for picture in pictures)
    assert {key: summary[key] for key in ("frames", "prompt_a", "prompt_b", "seed_a", "seed_b", "scheduler",
                                          "steps", "guidance_scale", "model")} == {
        "frames": 5, "prompt_a": "a red circle", "prompt_b": "a blue square", "seed_a": 3, "seed_b": 11,
        "scheduler": "DPMSolverMultistepScheduler", "steps": 3, "guidance_scale": 5.0, "model": "tiny"}
    changes = [np.abs(pixels(b) - pixels(a)).mean() for a, b in zip(pictures, pictures[1:])]
    assert summary["step_change"] == pytest.approx(changes, abs=1e-3)  # grey levels between consecutive frames
    assert summary["max_over_mean"] == pytest.approx(max(changes) / np.mean(changes), abs=1e-3)
    distances = summary["crossfade_psnr_db"]
    assert len(distances) == 5 and distances[0] is None and distances[-1] is None
    assert all(0 < d < 60 for d in distances[1:-1])
    assert summary["seconds"] > 0 and "notes" not in summary


def test_batches_keep_the_ends_alone_and_the_frames_in_order():
    assert latent_walk.batches(8, 4) == [range(0, 1), range(1, 5), range(5, 7), range(7, 8)]
    assert latent_walk.batches(2, 8) == [range(0, 1), range(1, 2)]
    assert [i for batch in latent_walk.batches(32, 8) for i in batch] == list(range(32))


@pytest.mark.parametrize("scheduler", ["DPMSolverMultistepScheduler", "EulerAncestralDiscreteScheduler"])
def test_batched_frames_equal_frames_made_one_at_a_time(pipe, scheduler):
    request = WalkRequest(**{**WALK, "frames": 6}, scheduler=scheduler)
    one_by_one, _, _ = latent_walk.walk_result(pipe, request, batch_size=1)
    batched, summary, _ = latent_walk.walk_result(pipe, request, batch_size=4)
    assert summary["batch_size"] == 4
    # The ends are denoised alone either way; the middle differs by float rounding at most (measured: 1 grey level).
    assert np.array_equal(pixels(one_by_one[0]), pixels(batched[0]))
    assert np.array_equal(pixels(one_by_one[-1]), pixels(batched[-1]))
    assert max(np.abs(pixels(a) - pixels(b)).max() for a, b in zip(one_by_one, batched)) <= 1


def test_walk_streams_every_frame_in_order_then_the_summary(pipe):
    events = [event for event in latent_walk.walk(pipe, WalkRequest(**WALK), "tiny", batch_size=2)
              if event[0] != "wait"]  # waits come as the clock goes, between the others
    assert [kind for kind, _, _ in events] == ["frame"] * 5 + ["done"]
    assert [index for _, _, index in events[:-1]] == [0, 1, 2, 3, 4]
    final = events[-1][1]
    assert all(np.array_equal(pixels(streamed), pixels(picture)) for (_, streamed, _), picture in zip(events, final))


def test_a_walk_closed_early_stops_at_the_next_step_and_frees_the_pipeline(pipe):
    """The client left after the first frame: the step under way finishes, no other starts."""
    steps = 20
    unet = HeldUNet(pipe.unet, hold_at=steps + 2)  # frame 1's 2nd step
    events = latent_walk.walk(pipe, WalkRequest(**{**WALK, "frames": 32, "steps": steps}), batch_size=1)
    calls_at_close = close_while_held(events, unet, ("frame", 0))
    assert (calls_at_close, unet.calls) == (steps + 2, steps + 2)  # of 32 x 20 steps: none after the close


def test_the_same_request_gives_the_same_walk(pipe):
    first, _, _ = latent_walk.walk_result(pipe, WalkRequest(**WALK))
    again, _, _ = latent_walk.walk_result(pipe, WalkRequest(**WALK))
    assert all(np.array_equal(pixels(a), pixels(b)) for a, b in zip(first, again))


@pytest.mark.parametrize("change, message", [
    (dict(frames=1), "Frames must be a whole number from 2 to 32"),
    (dict(frames=33), "Frames must be a whole number from 2 to 32"),
    (dict(frames=float("nan")), "Frames"), (dict(frames=2.5), "Frames"),
    (dict(scheduler="NoSuchScheduler"), "Unknown scheduler"),
    (dict(prompt_a="", prompt_b="   "), "Both prompts are empty"),
    (dict(prompt_b=12), "must be text"),
    (dict(guidance_scale=float("nan")), "Guidance"), (dict(steps=0), "Steps"),
    (dict(seed_b=-1), "Seed"), (dict(seed_a=float("inf")), "Seed"),
])
def test_bad_walks_are_refused_with_a_plain_sentence(pipe, change, message):
    with pytest.raises(InputError, match=message):
        list(latent_walk.walk(pipe, WalkRequest(**{**WALK, **change})))


def test_a_bad_batch_size_and_a_failing_scheduler_are_explained(pipe):
    with pytest.raises(InputError, match="Batch size"):
        latent_walk.walk_result(pipe, WalkRequest(**WALK), batch_size=0)
    with pytest.raises(generate.GenerationError, match="PNDMScheduler .* Try more steps"):
        latent_walk.walk_result(pipe, WalkRequest(**{**WALK, "steps": 2}, scheduler="PNDMScheduler"))


def test_one_empty_and_one_overlong_prompt_are_explained(pipe):
    _, summary, _ = latent_walk.walk_result(pipe, WalkRequest(**{**WALK, "prompt_a": "", "prompt_b": "red " * 2500}))
    notes = " ".join(summary["notes"])
    assert "Prompt A: Empty prompt" in notes and "unconditional" in notes
    assert "Prompt B:" in notes and len(summary["prompt_b"]) <= generate.MAX_PROMPT_CHARS


def test_stochastic_schedulers_are_told_apart_from_deterministic_ones(pipe):
    assert latent_walk.draws_step_noise(pipe, "EulerAncestralDiscreteScheduler")
    assert latent_walk.draws_step_noise(pipe, "DDPMScheduler")
    for name in ("DPMSolverMultistepScheduler", "DDIMScheduler", "EulerDiscreteScheduler"):
        assert not latent_walk.draws_step_noise(pipe, name)


def test_starting_noise_is_what_the_pipeline_draws_for_the_seed(pipe):
    end = generate.check_request(pipe, Request("a cat", seed=42))
    noise, _ = latent_walk.starting_noise(pipe, end)
    assert noise.shape == (1, 4, 8, 8)
    drawn = pipe.prepare_latents(1, 4, 64, 64, noise.dtype, torch.device("cpu"), torch.Generator("cpu").manual_seed(42))
    assert torch.equal(noise, drawn / pipe.scheduler.init_noise_sigma)


@pytest.fixture(scope="module")
def two_pictures():
    return photo_like(64, 64, seed=1), photo_like(64, 64, seed=2)


def test_vae_walk_ends_are_the_reconstructions_and_it_reports_the_crossfade(tiny_vae, two_pictures):
    pictures, summary = latent_walk.vae_walk(tiny_vae, *two_pictures, frames=6)
    assert len(pictures) == 6 and summary["frames"] == 6
    for picture, source in zip((pictures[0], pictures[-1]), two_pictures):
        reconstruction = vae_ops.decode(tiny_vae, vae_ops.encode(tiny_vae, source).mean)[0]
        assert np.array_equal(pixels(picture), pixels(imaging.to_pil(reconstruction)))
        assert torch.equal(posteriors.reconstruction(tiny_vae, source), reconstruction)
    distances = summary["crossfade_psnr_db"]
    assert len(distances) == 6 and distances[0] is None and distances[-1] is None
    # Each middle frame's PSNR against the pixel crossfade of the two ends, measured here on the pictures
    # returned (rounded to whole grey levels, so within a tenth of a dB of the summary's).
    frames = [pixels(picture).astype(np.float64) for picture in pictures]
    for t, frame, reported in zip(np.linspace(0, 1, 6)[1:-1], frames[1:-1], distances[1:-1]):
        crossfade = (1 - t) * frames[0] + t * frames[-1]
        assert reported == pytest.approx(10 * np.log10(255**2 / np.mean((frame - crossfade) ** 2)), abs=0.1)
    assert len(summary["step_change"]) == 5
    assert latent_walk.vae_walk(tiny_vae, *two_pictures, frames=2)[1]["crossfade_psnr_db"] == [None, None]


def test_vae_walk_refuses_bad_frames_and_mismatched_pictures(tiny_vae, two_pictures):
    with pytest.raises(InputError, match="Frames"):
        latent_walk.vae_walk(tiny_vae, *two_pictures, frames=33)
    with pytest.raises(InputError, match="same size"):
        latent_walk.vae_walk(tiny_vae, two_pictures[0], photo_like(96, 64), frames=4)


def test_prior_vs_diffusion_shows_the_same_noise_decoded_and_denoised(pipe):
    prior, diffusion, summary = latent_walk.prior_vs_diffusion(pipe, "a red circle", 5, "DDIMScheduler", 3, 5.0, "tiny")
    generated, _ = generate.generate(pipe, Request("a red circle", scheduler="DDIMScheduler", steps=3, seed=5))
    assert np.array_equal(pixels(diffusion), pixels(generated))
    noise = torch.Generator("cpu").manual_seed(5)
    noise = torch.randn((1, 4, 8, 8), generator=noise)
    assert np.array_equal(pixels(prior), pixels(imaging.to_pil(vae_ops.decode(pipe.vae, noise)[0])))
    for name, picture in (("prior_decoded", prior), ("diffusion", diffusion)):  # the statistics of the pictures shown
        assert summary[name] == pytest.approx(latent_walk.picture_statistics(picture), abs=1e-4)
    assert summary["seed"] == 5 and summary["model"] == "tiny"
    with pytest.raises(InputError, match="Unknown scheduler"):
        latent_walk.prior_vs_diffusion(pipe, "a cat", 0, "NoSuchScheduler", 3, 5.0)


def test_picture_statistics_tell_smooth_pictures_from_noise():
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    smooth = photo_like(64, 64)
    noisy, calm = latent_walk.picture_statistics(noise), latent_walk.picture_statistics(smooth)
    assert noisy["neighbour_difference"] > 10 * calm["neighbour_difference"]
    flat = latent_walk.picture_statistics(Image.new("RGB", (8, 8), (90, 90, 90)))
    assert flat == {"neighbour_difference": 0.0, "pixel_std": 0.0}
