"""The size the photo views work at: as large as lets one decode take about a second here.

A VAE's decode costs about the same per pixel at every size, so one timed decode at a small size
tells what a larger one would take. The embedded VAE always works at 512 px (its decode takes a
fraction of a second on a laptop CPU); a host's LATENT_LAB_MAX_SIDE overrides everything.
"""

from dataclasses import dataclass
import threading
import time

import torch

from latent_lab import vae as vae_ops

DECODE_SECONDS = 1.0  # what one decode may take at the working size
SIDES = (512, 448, 384, 320, 256, 192, 128)  # the sizes to choose from, largest first
PROBE_SIDE = 128  # the decode that is timed (best of PROBE_REPEATS, after one warm-up)
PROBE_REPEATS = 2
EMBEDDED_SIDE = 512

_measured, _lock = {}, threading.Lock()


@dataclass(frozen=True)
class WorkingSize:
    side: int  # pictures are fitted so that their longest side is at most this
    reason: str  # one line for the page


def working_size(vae, setting=None, embedded=False):
    """The WorkingSize for `vae`: `setting` (LATENT_LAB_MAX_SIDE) when the host gave one, 512 for
    the embedded models, else the largest of SIDES whose decode is predicted to take at most
    DECODE_SECONDS, from one decode timed once per model."""
    if setting:
        return WorkingSize(int(setting), f"{int(setting)} px, as LATENT_LAB_MAX_SIDE sets")
    if embedded:
        return WorkingSize(EMBEDDED_SIDE, f"{EMBEDDED_SIDE} px, the embedded VAE's size")
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


def choose_side(per_pixel):
    """The largest of SIDES whose square decodes in DECODE_SECONDS at `per_pixel` seconds a pixel."""
    for side in SIDES:
        predicted = per_pixel * side * side
        if predicted <= DECODE_SECONDS:
            break
    reason = (f"{side} px: one decode takes about {predicted:.1f} s at this size here "
              f"(set LATENT_LAB_MAX_SIDE to choose another)")
    return WorkingSize(side, reason)
