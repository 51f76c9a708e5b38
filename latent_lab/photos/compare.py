"""The AE vs VAE tab on photos: each model of the family side by side, its reconstruction, a
lerp from A to B with how evenly it changes, and decodes of z ~ N(0, I)."""

from dataclasses import dataclass

import torch

from latent_lab import imaging, paths, plots, vae as vae_ops
from latent_lab.cache import posteriors, prepare
from latent_lab.checks import MAX_SEED, check_number, round_summary
from latent_lab.streams import last


PRIOR_SAMPLES = 4
MIN_STEPS, MAX_STEPS = 2, 16  # frames of each model's walk


@dataclass
class CompareResult:
    rows: list  # (strip picture, caption) per model
    change_plot: object
    summary: dict


def compare_view(named_vaes, file_a, file_b, steps=6, seed=0, max_side=256):
    """Each model side by side: the last item of compare_stream."""
    return last(compare_stream(named_vaes, file_a, file_b, steps, seed, max_side))


def compare_stream(named_vaes, file_a, file_b, steps=6, seed=0, max_side=256):
    """Each model side by side: its reconstruction of A, a lerp from A to B, and decodes of
    z ~ N(0, I) (the prior), with how evenly the picture changes along the path. Yields the rows
    done so far, one more per model, then the CompareResult."""
    steps = check_number(steps, "Steps", MIN_STEPS, MAX_STEPS, integer=True)
    seed = check_number(seed, "Seed", 0, MAX_SEED, integer=True)
    rows, changes, models = [], {}, []
    for name, vae in named_vaes:
        image_a = prepare(vae, file_a, max_side)
        image_b = prepare(vae, file_b, max_side, size=image_a.size)
        posterior_a, posterior_b = posteriors.get(vae, image_a), posteriors.get(vae, image_b)
        path = paths.frames(posterior_a.mean[0], posterior_b.mean[0], steps, "lerp")
        generator = torch.Generator().manual_seed(seed)
        prior = torch.randn((PRIOR_SAMPLES, *path.shape[1:]), generator=generator)
        pictures = vae_ops.decode(vae, torch.cat([path, prior]))
        frames = pictures[:steps]
        changes[name] = paths.path_changes(frames)
        mean_change, max_change = sum(changes[name]) / len(changes[name]), max(changes[name])
        report = {
            "model": name,
            "has_sigma": posterior_a.has_sigma,
            "psnr_db": vae_ops.psnr(imaging.to_tensor(image_a)[0], frames[0]),
            "kl_per_dim": vae_ops.kl_per_dim(posterior_a, vae),
            "mean_step_change": mean_change,
            "max_step_change": max_change,
            "max_over_mean": max_change / mean_change if mean_change > 0 else 1.0,
            "crossfade_psnr_db": paths.crossfade_distance(frames),  # each frame's distance to a pixel crossfade
        }
        models.append(round_summary(report))
        caption = (f"{name}: A → B (first frame {report['psnr_db']:.1f} dB from A; biggest step "
                   f"{report['max_over_mean']:.2f}× the average), then decodes of z ~ N(0, I)")
        rows.append((imaging.strip([imaging.to_pil(p) for p in pictures], groups=(steps,)), caption))
        yield list(rows)
    summary = {"models": models, "steps": steps, "seed": seed, "prior_samples": PRIOR_SAMPLES}
    yield CompareResult(rows, plots.path_change_figure(changes), summary)
