"""Paths between two latents, shared by every family: lerp and slerp (pure tensor functions where
t may be a number or a 1-D tensor), and what a decoded path is measured by: how much each step
changes the picture and how close each frame lies to a pixel crossfade of the two ends."""

import math

import torch

from latent_lab import vae as vae_ops

PARALLEL_DOT = 0.9995  # |cos| above this: the vectors are (anti)parallel, slerp is ill-defined


def _weights(t, like):
    """t as a (T, 1, 1, ...) tensor that broadcasts over one latent of shape `like`."""
    t = torch.as_tensor(t, dtype=like.dtype).reshape(-1)
    return t.reshape(-1, *([1] * like.dim()))


def lerp(a, b, t):
    """(1 - t) a + t b: the straight line. Returns (T, *a.shape)."""
    t = _weights(t, a)
    return (1 - t) * a + t * b


def slerp(a, b, t):
    """Spherical interpolation: along the great circle from a to b, scaling the norm linearly.

    Gaussian latents live near a sphere of radius sqrt(dim); the straight line cuts inside it
    (the midpoint of two independent samples has ~0.71x their norm), slerp keeps to its surface.
    Nearly parallel vectors fall back to lerp. For antipodal ones (b = -a) every great circle
    is as good as another: we also fall back to lerp, which passes through zero.
    Returns (T, *a.shape), with exactly a at t=0 and b at t=1.
    """
    t = _weights(t, a)
    norm_a, norm_b = a.norm(), b.norm()
    if norm_a == 0 or norm_b == 0:
        return lerp(a, b, t.reshape(-1))
    cos = torch.clamp((a * b).sum() / (norm_a * norm_b), -1.0, 1.0)
    if cos.abs() > PARALLEL_DOT:
        return lerp(a, b, t.reshape(-1))
    omega = torch.arccos(cos)
    direction_a, direction_b = a / norm_a, b / norm_b
    on_sphere = (torch.sin((1 - t) * omega) * direction_a + torch.sin(t * omega) * direction_b) / torch.sin(omega)
    path = on_sphere * ((1 - t) * norm_a + t * norm_b)
    path[t.reshape(-1) == 0] = a  # exact ends, free of rounding
    path[t.reshape(-1) == 1] = b
    return path


METHODS = {"lerp": lerp, "slerp": slerp}


def frames(a, b, steps, method="slerp"):
    """`steps` latents from a to b inclusive, by `method` ("lerp" or "slerp"); (steps, *a.shape)."""
    if method not in METHODS:
        raise ValueError(f"Unknown interpolation method '{method}'. Use 'lerp' or 'slerp'.")
    if steps < 2:
        raise ValueError("An interpolation needs at least 2 steps (the two ends).")
    return METHODS[method](a, b, torch.linspace(0, 1, steps))


def crossfade_distance(pictures):
    """PSNR (dB) of each frame (N, 3, H, W) against the pixel crossfade of the first and last
    frame at the same t; None at the ends, which are the crossfade itself."""
    ts = torch.linspace(0, 1, len(pictures))[:, None, None, None]
    crossfade = (1 - ts) * pictures[0] + ts * pictures[-1]
    distances = [vae_ops.psnr(fade, frame) for fade, frame in zip(crossfade, pictures)]
    # None at the ends, and where a frame equals the crossfade exactly (two equal pictures).
    return [None, *(d if math.isfinite(d) else None for d in distances[1:-1]), None][:len(pictures)]


def path_changes(pictures):
    """Mean absolute pixel change (grey levels, 0-255) between consecutive frames (N, 3, H, W)."""
    return ((pictures[1:] - pictures[:-1]).abs() * 127.5).mean(dim=(1, 2, 3)).tolist()
