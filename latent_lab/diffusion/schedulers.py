"""One prompt and seed through several schedulers, side by side."""

from dataclasses import dataclass

from latent_lab.diffusion import generate
from latent_lab.checks import InputError


MAX_SCHEDULERS = 6


@dataclass
class SchedulerComparison:
    gallery: list  # (picture, caption) per scheduler
    summary: dict


def compare_schedulers(pipe, prompt, names, steps=20, guidance_scale=5.0, seed=0, model="model"):
    """The same prompt, seed and steps through each chosen scheduler, one after another."""
    if isinstance(names, str):
        names = [names]
    if not all(isinstance(name, str) for name in names or []):
        raise InputError("Schedulers must be given by their class names, such as 'DDIMScheduler'.")
    names = list(dict.fromkeys(names or []))  # in order, each once
    if not 1 <= len(names) <= MAX_SCHEDULERS:
        raise InputError(f"Choose from 1 to {MAX_SCHEDULERS} schedulers; got {len(names)}.")
    # Check every request before running any, so a bad name does not waste the runs before it.
    requests = [generate.check_request(pipe, generate.Request(
        prompt=prompt, scheduler=name, steps=steps, guidance_scale=guidance_scale, seed=seed)) for name in names]
    gallery, results = [], []
    for request in requests:
        picture, run = generate.generate(pipe, request, model)
        gallery.append((picture, f"{request.scheduler}: {request.steps} steps, {run['seconds']:.2f} s"))
        results.append({"scheduler": request.scheduler, "seconds": run["seconds"]})
    first = requests[0]
    summary = {"prompt": first.prompt, "seed": first.seed, "steps": first.steps,
               "guidance_scale": first.guidance_scale, "results": results, "model": model}
    return SchedulerComparison(gallery, summary)
