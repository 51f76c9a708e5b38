"""The size the photo views work at: as large as lets one decode take at most DECODE_SECONDS here.

A VAE's decode costs about the same per pixel at every size, so one timed decode at a small size
tells what a larger one would take. Three ways does twice a Sample's model work (at 8 frames, 12
decodes and 6 encodes against 8 decodes), so it works at the size where two decodes take that
long; its rows are strips of 8 or more frames, each shown at an eighth of the row or less. The
embedded VAE always works at 512 px (its decode takes a fraction of a second on a laptop CPU); a
host's LATENT_LAB_MAX_SIDE overrides everything.
"""

from dataclasses import dataclass
import threading
import time

import torch

from latent_lab import vae as vae_ops

# What one decode of a square picture may take at the working size: Sample's 8 decodes (the most
# of any view but Three ways at the defaults) then take 6 s, and the page shows them within 8 s.
DECODE_SECONDS = 0.75
SIDES = (512, 448, 384, 320, 256, 224, 192, 160, 128)  # the sizes to choose from, largest first
PROBE_SIDE = 128  # the decode that is timed (best of PROBE_REPEATS, after one warm-up)
PROBE_REPEATS = 3
THREE_WAYS_WORK = 2  # Three ways' model work in decodes, against a Sample's
EMBEDDED_SIDE = 512

_measured, _lock = {}, threading.Lock()


@dataclass(frozen=True)
class WorkingSize:
    side: int  # pictures are fitted so that their longest side is at most this
    reason: str  # one line for the page
    three_ways_side: int  # the same for Three ways


def working_size(vae, setting=None, embedded=False):
    """The WorkingSize for `vae`: `setting` (LATENT_LAB_MAX_SIDE) when the host gave one, 512 for
    the embedded models, else the largest of SIDES whose decode is predicted to take at most
    DECODE_SECONDS, from a decode timed once per model."""
    if setting:
        return WorkingSize(int(setting), f"{int(setting)} px, as LATENT_LAB_MAX_SIDE sets", int(setting))
    if embedded:
        return WorkingSize(EMBEDDED_SIDE, f"{EMBEDDED_SIDE} px, the embedded VAE's size", EMBEDDED_SIDE)
    with _lock:  # two first requests at once: one probe
        if id(vae) not in _measured:
            _measured[id(vae)] = choose_side(seconds_per_pixel(vae))
        return _measured[id(vae)]


def seconds_per_pixel(vae):
    """Seconds one decode takes per output pixel, timed at PROBE_SIDE² (best of PROBE_REPEATS)."""
    cells = PROBE_SIDE // vae_ops.scale_factor(vae)
    latent = torch.zeros(1, vae.config.latent_channels, cells, cells)
    vae_ops.decode(vae, latent)  # warm-up: kernels are chosen on the first call
    best = float("inf")
    for _ in range(PROBE_REPEATS):
        started = time.perf_counter()
        vae_ops.decode(vae, latent)
        best = min(best, time.perf_counter() - started)
    return best / PROBE_SIDE**2


def largest_side(per_pixel, seconds):
    """The largest of SIDES whose square decodes in `seconds` at `per_pixel` seconds a pixel
    (the smallest when none does)."""
    return next((side for side in SIDES if per_pixel * side * side <= seconds), SIDES[-1])


def choose_side(per_pixel):
    """The WorkingSize for a decode of `per_pixel` seconds a pixel: one decode in DECODE_SECONDS,
    and Three ways' THREE_WAYS_WORK decodes in the same time."""
    side = largest_side(per_pixel, DECODE_SECONDS)
    three_ways_side = largest_side(per_pixel, DECODE_SECONDS / THREE_WAYS_WORK)
    reason = f"{side} px: one decode takes about {per_pixel * side * side:.2f} s at this size here"
    if three_ways_side < side:
        reason += f"; Three ways, with twice the work, at {three_ways_side} px"
    return WorkingSize(side, reason + " (set LATENT_LAB_MAX_SIDE to choose another)", three_ways_side)
