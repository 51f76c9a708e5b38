"""The Interpolate tab: the decoded walk between two pictures (lerp or slerp, from latent_lab.paths),
and the same walk three ways: lerp, slerp and a crossfade of the pixels.

A spatial latent (Stable Diffusion's, 4 numbers per 8x8 patch) describes each patch on its own,
so a walk between two photos blends patches: its frames sit close to a pixel crossfade of the
two reconstructions. Every walk reports that distance (dB, higher is closer to a crossfade)."""

from dataclasses import dataclass
import math

import torch

from latent_lab import imaging, plots, vae as vae_ops
from latent_lab.cache import posteriors, prepare
from latent_lab.checks import InputError, check_number, model_name, round_summary
from latent_lab.paths import METHODS, crossfade_distance, frames
from latent_lab.streams import decoded, last

MIN_STEPS, MAX_STEPS = 2, 32  # frames from A to B, both ends included

def _ends(vae, file_a, file_b, max_side):
    image_a = prepare(vae, file_a, max_side)
    image_b = prepare(vae, file_b, max_side, size=image_a.size)  # B takes A's size
    return image_a, image_b


@dataclass
class InterpolateResult:
    frames: list
    norm_plot: object
    summary: dict


def interpolate_view(vae, source, file_a, file_b, steps=8, method="slerp", max_side=512):
    """The decoded walk from A's μ to B's: the last item of interpolate_stream."""
    return last(interpolate_stream(vae, source, file_a, file_b, steps, method, max_side))


def interpolate_stream(vae, source, file_a, file_b, steps=8, method="slerp", max_side=512):
    """Yields the frames decoded so far (A's reconstruction first) as each is done, then the
    InterpolateResult."""
    steps = check_number(steps, "Steps", MIN_STEPS, MAX_STEPS, integer=True)
    if method not in METHODS:
        raise InputError(f"Method must be 'lerp' or 'slerp', not {str(method)[:40]!r}.")
    image_a, image_b = _ends(vae, file_a, file_b, max_side)
    # The path starts at μ_A and ends at μ_B exactly: those two frames are the reconstructions.
    # A's is shown before B is encoded.
    shown = [imaging.to_pil(posteriors.reconstruction(vae, image_a))]
    yield list(shown)
    mean_a, mean_b = posteriors.get(vae, image_a).mean[0], posteriors.get(vae, image_b).mean[0]
    path = frames(mean_a, mean_b, steps, method)  # (steps, C, h, w)
    ends = posteriors.reconstruction(vae, image_a), posteriors.reconstruction(vae, image_b)
    middle = (yield from decoded(vae, path[1:-1], shown)) if steps > 2 else ends[0][None][:0]  # (steps - 2, 3, H, W)
    pictures = torch.cat([ends[0][None], middle, ends[1][None]])
    # Both norm curves, so students see lerp sag and slerp hold the norm (no decoding needed).
    norms_by_method = {name: frames(mean_a, mean_b, steps, name).flatten(1).norm(dim=1).tolist() for name in METHODS}
    distance = {method: crossfade_distance(pictures)}
    figure = plots.walk_figure(norms_by_method, distance, typical_norm=math.sqrt(mean_a.numel()))
    summary = {"method": method, "steps": steps, "latent_norms": norms_by_method[method],
               "crossfade_psnr_db": distance, "model": model_name(source)}
    yield InterpolateResult(shown + [imaging.to_pil(ends[1])], figure, round_summary(summary))


THREE_WAYS = ("lerp", "slerp", "crossfade")
CAPTIONS = {"lerp": "lerp: straight line between the latents",
            "slerp": "slerp: along the sphere between the latents",
            "crossfade": "crossfade: the pixels blended, no latents at all"}


@dataclass
class ThreeWaysResult:
    frames: dict  # method -> list of pictures from A to B
    rows: list  # (strip picture, caption) per method
    norm_plot: object
    summary: dict


def three_ways_view(vae, source, file_a, file_b, steps=8, max_side=512):
    """The same walk from A to B three ways: the last item of three_ways_stream."""
    return last(three_ways_stream(vae, source, file_a, file_b, steps, max_side))


def three_ways_stream(vae, source, file_a, file_b, steps=8, max_side=512):
    """The same walk from A to B three ways: lerp and slerp of the latents (decoded), and a plain
    crossfade of the reconstructions' pixels; ‖z‖ along each (the crossfade's blends are encoded,
    in one batch, to find theirs) and each frame's distance to the crossfade. Yields the rows done
    so far (the crossfade first: it needs no model), then the ThreeWaysResult."""
    steps = check_number(steps, "Steps", MIN_STEPS, MAX_STEPS, integer=True)
    image_a, image_b = _ends(vae, file_a, file_b, max_side)
    mean_a, mean_b = posteriors.get(vae, image_a).mean[0], posteriors.get(vae, image_b).mean[0]
    ends = posteriors.reconstruction(vae, image_a), posteriors.reconstruction(vae, image_b)
    strips, rows_done = {}, {}

    def rows():  # each row's strip is made once, so a streamed row is sent once
        for name in strips.keys() - rows_done.keys():
            rows_done[name] = (imaging.strip(strips[name]), CAPTIONS[name])
        return [rows_done[name] for name in THREE_WAYS if name in rows_done]

    # 1. A walk in pixel space: the reconstructions blended.
    ts = torch.linspace(0, 1, steps)[:, None, None, None]
    pictures = {"crossfade": (1 - ts) * ends[0] + ts * ends[1]}
    strips["crossfade"] = [imaging.to_pil(p) for p in pictures["crossfade"]]
    yield rows()

    # 2. Two walks in latent space: their middle frames decoded, between the two reconstructions.
    paths = {name: frames(mean_a, mean_b, steps, name) for name in ("lerp", "slerp")}  # (steps, C, h, w)
    for name, path in paths.items():
        pictures[name] = torch.cat([ends[0][None], vae_ops.decode(vae, path[1:-1]), ends[1][None]])
        strips[name] = [imaging.to_pil(p) for p in pictures[name]]
        yield rows()

    # 3. Where the encoder puts each blend of the crossfade.
    middle = vae_ops.encode_batch(vae, strips["crossfade"][1:-1]) if steps > 2 else torch.empty(0, *mean_a.shape)
    crossfade_latents = torch.cat([mean_a[None], middle, mean_b[None]])

    norms = {name: path.flatten(1).norm(dim=1).tolist() for name, path in paths.items()}
    norms["crossfade"] = crossfade_latents.flatten(1).norm(dim=1).tolist()
    distance = {name: crossfade_distance(pictures[name]) for name in ("lerp", "slerp")}
    figure = plots.walk_figure(norms, distance, typical_norm=math.sqrt(mean_a.numel()))
    summary = {"methods": list(THREE_WAYS), "steps": steps, "latent_norms": round_summary(norms),
               "crossfade_psnr_db": round_summary(distance), "size": list(image_a.size), "model": model_name(source)}
    yield ThreeWaysResult(strips, rows(), figure, round_summary(summary))
