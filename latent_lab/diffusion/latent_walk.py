"""Latent walks for text-to-image, and the VAE-latent walk they are often confused with.

A diffusion walk (as in stable-diffusion-videos and the Keras random-walk example) moves the
*starting noise* along a great circle (slerp) and the *prompt embedding* along a straight line
(lerp), and denoises every frame: each frame is a clean picture. A walk between two pictures'
VAE latents stays close to a pixel crossfade of them. The summaries carry the numbers that
show it: the PSNR of every frame against the crossfade of the two ends.
"""

from dataclasses import dataclass
from functools import cache
import inspect
import time

import numpy as np
import torch
from diffusers.utils.torch_utils import randn_tensor

from latent_lab import imaging, paths, plots, vae as vae_ops
from latent_lab.cache import posteriors
from latent_lab.checks import InputError, check_number, round_summary
from latent_lab.diffusion import generate
from latent_lab.streams import in_worker


MIN_FRAMES, MAX_FRAMES = 2, 32
# Middle frames denoised in one pipeline call. Measured on the embedded pipeline (128x128, 20 steps,
# guidance 5, DPM++) on a 2-core CPU, 16 frames, best of 3: 0.73, 0.61, 0.56 and 0.48 seconds a frame
# for batches of 1, 2, 4 and 8 (a small UNet on small latents is bound by per-call overhead).
BATCH_SIZE = 8


@dataclass(frozen=True)
class WalkRequest:
    prompt_a: str = ""
    prompt_b: str = ""
    seed_a: int = 0
    seed_b: int = 1
    frames: int = 8
    scheduler: str = "DPMSolverMultistepScheduler"
    steps: int = 20
    guidance_scale: float = 5.0


def end_requests(pipe, request):
    """The two /generate requests the walk starts and ends with, checked like /generate's."""
    ends = [generate.check_request(pipe, generate.Request(
        prompt=prompt, scheduler=request.scheduler, steps=request.steps,
        guidance_scale=request.guidance_scale, seed=seed))
        for prompt, seed in ((request.prompt_a, request.seed_a), (request.prompt_b, request.seed_b))]
    if not ends[0].prompt.strip() and not ends[1].prompt.strip():
        raise InputError("Both prompts are empty: write at least one, so the walk goes from one picture to another.")
    return ends


def starting_noise(pipe, end):
    """The initial latent z ~ N(0, I) that /generate draws for `end` (a checked Request), bit for
    bit, and its generator after the draw: stochastic schedulers take their step noise from it
    next, as they do in /generate. z is (1, 4, H/8, W/8), in the pipeline's dtype, on the CPU."""
    generator = torch.Generator("cpu").manual_seed(end.seed)
    shape = (1, pipe.unet.config.in_channels, end.height // pipe.vae_scale_factor, end.width // pipe.vae_scale_factor)
    noise = randn_tensor(shape, generator=generator, device=torch.device("cpu"), dtype=pipe.text_encoder.dtype)
    return noise, generator


def _embed(pipe, prompt):
    """(prompt embedding, unconditional embedding), each (1, 77, D), as the pipeline makes them.
    Call it holding generate._run_lock (the tokenizer is shared)."""
    with torch.inference_mode():
        return pipe.encode_prompt(prompt, pipe._execution_device, 1, True)


def _denoise(pipe, end, latents, embeddings, unconditional, generators, stopped):
    """Denoise a batch of starting latents (B, 4, h, w) with prompt embeddings (B, 77, D) in one
    pipeline call, with a fresh scheduler; B pictures. Raises generate.Stopped at the next step
    once `stopped` is set. Call it holding generate._run_lock."""
    job_pipe = type(pipe).from_pipe(pipe, scheduler=generate.fresh_scheduler(pipe, end.scheduler))
    job_pipe.set_progress_bar_config(disable=True)

    def on_step_end(running_pipe, step, timestep, tensors):
        if stopped.is_set():
            raise generate.Stopped
        return tensors

    try:
        with torch.inference_mode():
            return job_pipe(
                prompt_embeds=embeddings, negative_prompt_embeds=unconditional.repeat(len(latents), 1, 1),
                latents=latents, num_inference_steps=end.steps, guidance_scale=end.guidance_scale,
                width=end.width, height=end.height, generator=generators, callback_on_step_end=on_step_end,
                output_type="pil").images
    except generate.Stopped:
        raise
    except Exception as error:
        raise generate.GenerationError(f"The {end.scheduler} scheduler could not run {end.steps} steps. "
                                       f"Try more steps or another scheduler.") from error


@cache
def draws_step_noise(pipe, name):
    """True when scheduler `name` adds fresh random noise at its steps (ancestral and SDE samplers,
    DDPM): two steps on a tiny sample with two different seeds give different results."""
    results = []
    for seed in (0, 1):
        scheduler, generator = generate.fresh_scheduler(pipe, name), torch.Generator().manual_seed(seed)
        scheduler.set_timesteps(4)
        takes_generator = "generator" in inspect.signature(scheduler.step).parameters
        sample = torch.ones(1, 1, 2, 2)
        for timestep in scheduler.timesteps[:2]:
            scheduler.scale_model_input(sample, timestep)
            extra = {"generator": generator} if takes_generator else {}
            sample = scheduler.step(torch.zeros_like(sample), timestep, sample, **extra).prev_sample
        results.append(sample)
    return not torch.equal(*results)


def _change_summary(pictures):
    """step_change (grey levels between consecutive frames) and its max over its mean (1: even pace)."""
    changes = paths.path_changes(pictures)
    mean_change = sum(changes) / len(changes)
    return {"step_change": changes, "max_over_mean": max(changes) / mean_change if mean_change > 0 else 1.0}


def batches(frames, batch_size):
    """Frame indices in the order they are denoised: the first frame alone, the middle ones
    `batch_size` at a time, the last frame alone. Batched frames differ from frames made one at a
    time by float rounding (at most 1 grey level, measured), so only the ends are kept out of batches."""
    middle = [range(first, min(first + batch_size, frames - 1)) for first in range(1, frames - 1, batch_size)]
    return [range(0, 1), *middle, range(frames - 1, frames)]


def walk(pipe, request, model_name="model", batch_size=BATCH_SIZE):
    """Walk from (prompt_a, seed_a) to (prompt_b, seed_b): frame t denoises slerp(noise_a, noise_b, t)
    under the prompt embedding lerp(embedding_a, embedding_b, t), t = linspace(0, 1, frames), with
    one unconditional (empty prompt) embedding for guidance. The first and last frames are /generate's
    pictures of the two ends. Yields ("frame", picture, index) as each batch finishes, in order,
    ("wait", None, None) between them, then ("done", pictures, summary). Like generate.stream, the
    pipeline runs in a worker thread; closing the generator early stops it at the next denoising step."""
    started = time.perf_counter()
    ends = end_requests(pipe, request)
    frames = check_number(request.frames, "Frames", MIN_FRAMES, MAX_FRAMES, integer=True)
    batch_size = check_number(batch_size, "Batch size", 1, MAX_FRAMES, integer=True)
    ts = torch.linspace(0, 1, frames)

    def work(emit, stopped):
        try:
            for frame in _denoise_path(pipe, ends, ts, batch_size, stopped):
                emit(frame)
        except generate.Stopped:
            pass

    pictures = []
    for event in in_worker(work):
        if event is None:
            yield "wait", None, None  # a batch is denoising: the walk can be closed here
            continue
        index, picture = event
        pictures.append(picture)
        yield "frame", picture, index
    yield "done", pictures, _walk_summary(pipe, ends, pictures, batch_size, model_name, started)


def _denoise_path(pipe, ends, ts, batch_size, stopped):
    """Yields (index, picture) for every frame of the walk at times `ts`, batch by batch."""
    # 1. The two ends: starting noise as /generate draws it, prompt embeddings as the pipeline makes them.
    noise_a, noise_b = (starting_noise(pipe, end)[0] for end in ends)  # (1, 4, h, w) each
    with generate._run_lock:
        (embedding_a, unconditional), (embedding_b, _) = (_embed(pipe, end.prompt) for end in ends)
    # 2. The path: noise on the great circle (it keeps the length of Gaussian noise), embeddings on
    #    the line. In float32 on the CPU (the pipeline moves them); the ends are exact, so they
    #    round back to the very same tensors.
    noises = paths.slerp(noise_a[0].float(), noise_b[0].float(), ts).to(noise_a.dtype)  # (T, 4, h, w)
    embeddings = paths.lerp(embedding_a[0].float().cpu(), embedding_b[0].float().cpu(), ts)
    embeddings = embeddings.to(embedding_a.dtype)  # (T, 77, D)
    # 3. Denoise: each end alone (a batch of one, as /generate does: the same picture, bit for bit),
    #    the middle frames in batches. Each frame has its own generator, in the state the nearer end's
    #    /generate generator has after drawing its starting noise: step noise does not depend on the batch.
    for indices in batches(len(ts), batch_size):
        generators = [starting_noise(pipe, ends[0] if ts[i] < 0.5 else ends[1])[1] for i in indices]
        with generate._run_lock:
            batch = _denoise(pipe, ends[0], noises[indices.start:indices.stop],
                             embeddings[indices.start:indices.stop], unconditional, generators, stopped)
        yield from zip(indices, batch)


def _walk_summary(pipe, ends, pictures, batch_size, model_name, started):
    """How the walk went: pixel change per step, and how far each frame is from a crossfade of the ends."""
    as_tensors = torch.cat([imaging.to_tensor(picture) for picture in pictures])  # (T, 3, H, W)
    stochastic = draws_step_noise(pipe, ends[0].scheduler)
    summary = {"frames": len(pictures), "prompt_a": ends[0].prompt, "prompt_b": ends[1].prompt,
               "seed_a": ends[0].seed, "seed_b": ends[1].seed, "scheduler": ends[0].scheduler,
               "steps": ends[0].steps, "guidance_scale": ends[0].guidance_scale,
               **_change_summary(as_tensors), "crossfade_psnr_db": paths.crossfade_distance(as_tensors),
               "width": ends[0].width, "height": ends[0].height, "batch_size": batch_size,
               "step_noise": "nearer end's seed" if stochastic else "none",
               "seconds": time.perf_counter() - started, "model": model_name}
    notes = [f"Prompt {label}: {note}" for label, end in zip("AB", ends) for note in generate.prompt_notes(pipe, end)]
    if stochastic:
        notes.append(f"The {ends[0].scheduler} adds fresh noise at every step; each frame takes it from the "
                     f"nearer end's seed, so the walk jumps once in the middle. A deterministic scheduler "
                     f"(such as DPMSolverMultistepScheduler or DDIMScheduler) walks smoothly.")
    if notes:
        summary["notes"] = notes
    return round_summary(summary)


def walk_result(pipe, request, model_name="model", batch_size=BATCH_SIZE):
    """The walk's pictures, summary and a Figure of its step_change, without streaming."""
    for kind, pictures, summary in walk(pipe, request, model_name, batch_size):
        if kind == "done":
            return pictures, summary, plots.path_change_figure({"diffusion walk": summary["step_change"]})


def vae_walk(vae, first_picture, last_picture, frames, model_name="vae"):
    """The same two pictures walked through the VAE's latents: decode(lerp(μ_a, μ_b, t)). Frame t's
    distance to the crossfade (1 - t)·rec_a + t·rec_b of the two reconstructions is in
    `crossfade_psnr_db` (high: close to a crossfade); the two ends are the reconstructions
    themselves, so their entries are None. Returns (pictures, summary)."""
    frames = check_number(frames, "Frames", MIN_FRAMES, MAX_FRAMES, integer=True)
    multiple = vae_ops.scale_factor(vae)
    if first_picture.size != last_picture.size or any(side % multiple for side in first_picture.size):
        raise InputError(f"Both pictures must have the same size, with sides a multiple of {multiple}.")
    mean_a, mean_b = (posteriors.get(vae, picture).mean[0] for picture in (first_picture, last_picture))
    latents = paths.lerp(mean_a, mean_b, torch.linspace(0, 1, frames))  # (T, 4, h, w)
    # The path starts at μ_a and ends at μ_b exactly: those frames are the (cached) reconstructions.
    ends = [posteriors.reconstruction(vae, picture)[None] for picture in (first_picture, last_picture)]
    middle = vae_ops.decode(vae, latents[1:-1]) if frames > 2 else latents.new_empty(0, *ends[0].shape[1:])
    decoded = torch.cat([ends[0], middle, ends[1]])  # (T, 3, H, W) in [-1, 1]
    summary = {"frames": frames, **_change_summary(decoded),
               "crossfade_psnr_db": paths.crossfade_distance(decoded), "model": model_name}
    return [imaging.to_pil(picture) for picture in decoded], round_summary(summary)


def picture_statistics(picture):
    """How picture-like a picture is, in grey levels (0-255). neighbour_difference: the mean
    |difference| between horizontally and vertically adjacent pixels. A photo is smooth almost
    everywhere (on the embedded models a denoised picture scores about 1.5-3.5); decoded prior noise
    is a patchwork of unrelated 8x8-pixel cells and scores about 5. pixel_std: the contrast, for scale."""
    grey = np.asarray(picture.convert("L"), dtype=np.float64)
    neighbour = (np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean()) / 2
    return {"neighbour_difference": float(neighbour), "pixel_std": float(grey.std())}


def prior_vs_diffusion(pipe, prompt, seed, scheduler, steps, guidance, model_name="model"):
    """The starting noise z ~ N(0, I) that /generate uses for `seed`, decoded directly by the VAE
    (texture: the decoder alone does not turn prior samples of a spatial latent into pictures),
    beside what diffusion makes from that same noise and the prompt (/generate's picture).
    Returns (prior picture, diffusion picture, summary) with picture_statistics of each."""
    request = generate.Request(prompt=prompt, scheduler=scheduler, steps=steps, guidance_scale=guidance, seed=seed)
    end = generate.check_request(pipe, request)
    noise, _ = starting_noise(pipe, end)  # (1, 4, h, w)
    prior_picture = imaging.to_pil(vae_ops.decode(pipe.vae, noise.float())[0])
    diffusion_picture, run = generate.generate(pipe, request, model_name)
    summary = {"prompt": end.prompt, "seed": end.seed, "scheduler": end.scheduler, "steps": end.steps,
               "guidance_scale": end.guidance_scale, "prior_decoded": picture_statistics(prior_picture),
               "diffusion": picture_statistics(diffusion_picture), "seconds": run["seconds"], "model": model_name}
    if run.get("notes"):
        summary["notes"] = run["notes"]
    return prior_picture, diffusion_picture, round_summary(summary)
