"""Text-to-image with a choice of scheduler, safe for many users at once.

Each request gets its own scheduler (`Class.from_config(pipe.scheduler.config)`), its own
seeded torch.Generator and its own light pipeline object over the shared model weights, so
the loaded pipeline is never changed by a request.
"""

from dataclasses import dataclass
from functools import cache
import threading
import time

import torch

from latent_lab import imaging, vae as vae_ops
from latent_lab.checks import MAX_SEED, InputError, check_number, shorten
from latent_lab.streams import in_worker

PREFERRED_DEFAULTS = ("DPMSolverMultistepScheduler", "EulerDiscreteScheduler", "DDIMScheduler")
MAX_STEPS = 100
MAX_GUIDANCE = 20.0
# The tokenizer reads at most 77 tokens, a few hundred characters: longer text is cut before it is
# tokenized, so a huge prompt costs no time or memory while others wait.
MAX_PROMPT_CHARS = 1000
# A fast (Rust) tokenizer keeps its padding/truncation settings on one shared object, so two
# threads tokenizing at once can get each other's settings. Requests therefore run one at a time.
_run_lock = threading.Lock()


class GenerationError(RuntimeError):
    """The pipeline could not finish a request; the message says what to try instead."""


class Stopped(Exception):
    """Raised inside the pipeline's step callback when the request's client has gone."""


@dataclass(frozen=True)
class Request:
    prompt: str = ""
    negative_prompt: str = ""
    scheduler: str = "DPMSolverMultistepScheduler"
    steps: int = 20
    guidance_scale: float = 5.0
    seed: int = 0
    width: int | None = None  # None: the model's own size
    height: int | None = None
    notes: tuple = ()  # how the request was read, in plain sentences


@cache
def scheduler_classes(pipe):
    """{class name: class} for every scheduler in `pipe.scheduler.compatibles` that can be
    built from this pipeline's scheduler config and set up for sampling."""
    usable = {}
    for cls in sorted(pipe.scheduler.compatibles, key=lambda c: c.__name__):
        try:
            cls.from_config(pipe.scheduler.config).set_timesteps(4)
        except Exception:  # needs options this pipeline does not have (e.g. a flow-matching config)
            continue
        usable[cls.__name__] = cls
    return usable


def default_scheduler(pipe):
    names = scheduler_classes(pipe)
    return next((name for name in PREFERRED_DEFAULTS if name in names), type(pipe.scheduler).__name__)


def fresh_scheduler(pipe, name):
    """A new scheduler of class `name` with the pipeline's configuration."""
    classes = scheduler_classes(pipe)
    if name not in classes:
        raise InputError(f"Unknown scheduler {shorten(name)}. Choose one of: {', '.join(classes)}.")
    return classes[name].from_config(pipe.scheduler.config)


def native_size(pipe):
    """The (width, height) the pipeline's UNet was trained for."""
    side = pipe.unet.config.sample_size * pipe.vae_scale_factor
    return side, side


def check_request(pipe, request):
    """The request with every number checked (API callers skip the sliders) and a default size."""
    if request.scheduler not in scheduler_classes(pipe):
        fresh_scheduler(pipe, request.scheduler)  # raises the clear error
    width, height = native_size(pipe)
    multiple = pipe.vae_scale_factor
    sizes = [check_number(v if v is not None else default, name, 64, 1024, integer=True)
             for v, default, name in ((request.width, width, "Width"), (request.height, height, "Height"))]
    if any(size % multiple for size in sizes):
        raise InputError(f"Width and height must be multiples of {multiple}.")
    prompt, prompt_note = cut_prompt(request.prompt, "prompt")
    negative_prompt, negative_note = cut_prompt(request.negative_prompt, "negative prompt")
    return Request(
        prompt=prompt, negative_prompt=negative_prompt, scheduler=request.scheduler,
        notes=tuple(note for note in (prompt_note, negative_note) if note),
        steps=check_number(request.steps, "Steps", 1, MAX_STEPS, integer=True),
        guidance_scale=check_number(request.guidance_scale, "Guidance scale", 0, MAX_GUIDANCE),
        seed=check_number(request.seed, "Seed", 0, MAX_SEED, integer=True), width=sizes[0], height=sizes[1])


def cut_prompt(text, label="prompt"):
    """(text cut to MAX_PROMPT_CHARS, a note saying so or None); refuses anything but text."""
    text = "" if text is None else text
    if not isinstance(text, str):
        raise InputError(f"The {label} must be text.")
    if len(text) <= MAX_PROMPT_CHARS:
        return text, None
    return text[:MAX_PROMPT_CHARS], (f"The {label} was {len(text):,} characters long; only its first "
                                     f"{MAX_PROMPT_CHARS:,} were read (the model reads at most 77 tokens).")


def prompt_notes(pipe, request):
    """Plain sentences about how the prompt was read (empty, or cut to the tokenizer's limit)."""
    notes = list(request.notes)
    if not request.prompt.strip():
        notes.append("Empty prompt: the model draws without any text (unconditional generation).")
    tokenizer = pipe.tokenizer
    for label, text in (("prompt", request.prompt), ("negative prompt", request.negative_prompt)):
        with _run_lock:
            count = len(tokenizer(text, truncation=False).input_ids)
        if count > tokenizer.model_max_length:
            notes.append(f"The {label} was {count} tokens long and was cut to the model's limit of "
                         f"{tokenizer.model_max_length} tokens.")
    return notes


def _preview_scale(scheduler, step):
    """Noisy latents of sigma-based schedulers (Euler, DPM++...) are multiplied by sqrt(σ² + 1);
    undo that so that the preview of a noisy step shows noise of ordinary strength."""
    sigmas = getattr(scheduler, "sigmas", None)
    if sigmas is None or len(sigmas) <= step + 1 or scheduler.init_noise_sigma == 1.0:
        return 1.0
    return 1.0 / float(sigmas[step + 1] ** 2 + 1) ** 0.5


def stream(pipe, request, model_name, preview_every=4):
    """Run one request, yielding ("preview", picture, step) while it denoises, ("wait", None, None)
    between them (so that it can be closed), and finally ("done", picture, summary). The pipeline
    runs in a worker thread; errors come through, and closing the generator (the client left)
    stops the denoising at the next step."""
    request = check_request(pipe, request)
    notes = prompt_notes(pipe, request)
    # 1. A per-request pipeline object: shared weights, its own scheduler and generator.
    job_pipe = type(pipe).from_pipe(pipe, scheduler=fresh_scheduler(pipe, request.scheduler))
    job_pipe.set_progress_bar_config(disable=True)
    generator = torch.Generator("cpu").manual_seed(request.seed)

    def work(emit, stopped):
        # 2. Decode the current latents every few steps, so students watch noise become a picture.
        def on_step_end(running_pipe, step, timestep, tensors):
            if stopped.is_set():
                raise Stopped
            if preview_every and (step + 1) % preview_every == 0 and step + 1 < request.steps:
                latents = tensors["latents"][:1] * _preview_scale(running_pipe.scheduler, step)
                picture = vae_ops.decode(running_pipe.vae, latents.float())  # the app's decoder path: bf16 where fast
                emit(("preview", imaging.to_pil(picture[0]), step + 1))
            return tensors

        # 3. Denoise, one request at a time (the tokenizer is shared).
        started = time.perf_counter()
        try:
            with _run_lock, torch.inference_mode():
                output = job_pipe(
                    prompt=request.prompt, negative_prompt=request.negative_prompt or None,
                    num_inference_steps=request.steps, guidance_scale=request.guidance_scale,
                    width=request.width, height=request.height, generator=generator,
                    callback_on_step_end=on_step_end, output_type="pil")
        except Stopped:
            return
        except Exception as error:
            raise GenerationError(f"The {request.scheduler} scheduler could not run {request.steps} steps. "
                                  f"Try more steps or another scheduler.") from error
        summary = {"scheduler": request.scheduler, "steps": request.steps, "seed": request.seed,
                   "guidance_scale": request.guidance_scale, "model": model_name,
                   "seconds": round(time.perf_counter() - started, 3), "width": request.width, "height": request.height}
        if notes:
            summary["notes"] = notes
        emit(("done", output.images[0], summary))

    for event in in_worker(work):
        yield event or ("wait", None, None)


def generate(pipe, request, model_name="model"):
    """The final picture and summary of one request, without previews."""
    for kind, picture, summary in stream(pipe, request, model_name, preview_every=0):
        if kind == "done":
            return picture, summary
