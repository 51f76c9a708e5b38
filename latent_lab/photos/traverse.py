"""The Traverse tab: push one latent channel (everywhere or in a box of cells) in units of σ or
of the channel's spread, and decode each step: what does this channel control?"""

from dataclasses import dataclass

from PIL import Image
import torch

from latent_lab import imaging, plots
from latent_lab.cache import posteriors, prepare
from latent_lab.checks import InputError, check_number, model_name, round_summary, shorten
from latent_lab.photos.sample import TINY_DIFFERENCE
from latent_lab.streams import decoded, last

MAX_OFFSET = 10.0  # traversal offsets, in σ or in spreads
MIN_STEPS, MAX_STEPS = 2, 16  # frames of a traversal
UNITS = ("sigma", "spread")


@dataclass
class TraverseResult:
    frames: list  # one picture per offset
    strip: Image.Image  # the frames side by side
    reconstruction: Image.Image  # decode of μ, unchanged
    change_plot: object
    summary: dict


def check_region(region, height, width):
    """(top, left, bottom, right) in latent cells, bottom and right exclusive; None: every cell."""
    if region is None:
        return None
    accepted = (f"Region must be four whole numbers (top, left, bottom, right) in latent cells, with "
                f"0 ≤ top < bottom ≤ {height} and 0 ≤ left < right ≤ {width}")
    if isinstance(region, (str, bytes)) or not hasattr(region, "__len__") or len(region) != 4:
        raise InputError(f"{accepted}; got {shorten(region)}.")
    top = check_number(region[0], "Region top", 0, height - 1, integer=True)
    left = check_number(region[1], "Region left", 0, width - 1, integer=True)
    bottom = check_number(region[2], "Region bottom", top + 1, height, integer=True)
    right = check_number(region[3], "Region right", left + 1, width, integer=True)
    return top, left, bottom, right


def traverse_view(vae, source, file, channel=0, low=-3.0, high=3.0, steps=7, unit="sigma", region=None,
                  max_side=512):
    """The decoded traversal: the last item of traverse_stream."""
    return last(traverse_stream(vae, source, file, channel, low, high, steps, unit, region, max_side))


def traverse_stream(vae, source, file, channel=0, low=-3.0, high=3.0, steps=7, unit="sigma", region=None,
                    max_side=512):
    """Add offsets from `low` to `high` to one channel of μ (in a region of cells, or all of them)
    and decode each: what does this channel control? Offsets are in units of each cell's σ
    ("sigma") or of the channel's spread, the std of μ over the channel ("spread"). Yields the
    frames decoded so far as each batch is done, then the TraverseResult."""
    channels = vae.config.latent_channels
    channel = check_number(channel, "Channel", 0, channels - 1, integer=True)
    low = check_number(low, "Lowest offset", -MAX_OFFSET, MAX_OFFSET)
    high = check_number(high, "Highest offset", -MAX_OFFSET, MAX_OFFSET)
    steps = check_number(steps, "Steps", MIN_STEPS, MAX_STEPS, integer=True)
    if unit not in UNITS:
        raise InputError(f"Unit must be 'sigma' or 'spread', not {shorten(unit)}.")
    image = prepare(vae, file, max_side)
    posterior = posteriors.get(vae, image)
    mean = posterior.mean[0]  # (C, h, w)
    top, left, bottom, right = check_region(region, *mean.shape[1:]) or (0, 0, *mean.shape[1:])

    # 1. The size of one unit in every cell of the channel: its own σ, or the channel's spread.
    if unit == "sigma":
        if not posterior.has_sigma:
            raise InputError("This model has no σ (its encoder maps a picture to one point), so there is "
                             "no σ to step in. Use the unit 'spread' instead.")
        unit_map = posterior.std[0, channel]  # (h, w)
    else:
        unit_map = torch.full_like(mean[channel], mean[channel].std(correction=0).item())
    unit_map = unit_map[top:bottom, left:right]

    # 2. One latent per offset: μ with the offset added to the chosen cells of the channel.
    offsets = torch.linspace(low, high, steps)
    latents = mean.repeat(steps, 1, 1, 1)  # (steps, C, h, w)
    latents[:, channel, top:bottom, left:right] += offsets[:, None, None] * unit_map

    # 3. Decode the frames, and measure how far each moves from the reconstruction (the decode of μ).
    shown = []
    frames = yield from decoded(vae, latents, shown)  # (steps, 3, H, W)
    reconstruction = posteriors.reconstruction(vae, image)  # after the frames: they show first
    changes = ((frames - reconstruction).abs() * 127.5).mean(dim=(1, 2, 3)).tolist()
    summary = {
        "channel": channel,
        "unit": unit,
        "unit_mean": unit_map.mean().item(),  # the average size of one unit in latent values
        "offsets": offsets.tolist(),
        "pixel_change": changes,
        "region": [top, left, bottom, right] if region is not None else None,
        "latent_shape": list(mean.shape),
        "model": model_name(source),
    }
    if unit == "sigma" and max(abs(low), abs(high)) > 0 and max(changes) < TINY_DIFFERENCE:
        summary["note"] = (f"The picture barely changes (under {TINY_DIFFERENCE:g} grey level): σ is tiny "
                           f"for this model. Try the unit 'spread'.")
    unit_name = "σ" if unit == "sigma" else "the channel's spread"
    figure = plots.offset_change_figure(summary["offsets"], changes, unit_name)
    yield TraverseResult(shown, imaging.strip(shown), imaging.to_pil(reconstruction), figure, round_summary(summary))
