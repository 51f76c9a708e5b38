"""matplotlib Figures for latents (object API only: no pyplot state shared between requests).

The photo views' figures have fixed margins instead of a layout engine: matplotlib's constrained
layout measures every text before drawing, and a click waits for its figure (Encode's μ and σ
figure took 0.33 s to draw with it, 0.10 s without, on 2 cores)."""

import math

import numpy as np
from matplotlib.figure import Figure

DIVERGING = "RdBu_r"  # signed values: blue below zero, red above
SEQUENTIAL = "magma"  # non-negative values such as σ
IMAGE_MARGINS = (0.1, 0.1, 0.5, 0.6)  # inches left, bottom, right, top: room for a suptitle
CURVE_MARGINS = (0.8, 0.6, 0.2, 0.35)  # room for tick labels, axis labels and a title


def new_figure(width, height, margins=None, wspace=0.3, hspace=0.3):
    """A Figure of `width` x `height` inches: laid out by matplotlib, or, given `margins` (left,
    bottom, right, top, in inches), with its subplots placed inside them, `wspace` and `hspace`
    (shares of a subplot's width and height) between them."""
    if margins is None:
        return Figure(figsize=(width, height), dpi=100, layout="constrained")
    figure = Figure(figsize=(width, height), dpi=100)
    left, bottom, right, top = margins
    figure.subplots_adjust(left=left / width, bottom=bottom / height, right=1 - right / width, top=1 - top / height,
                           wspace=wspace, hspace=hspace)
    return figure


def _symmetric_limit(values):
    return float(np.abs(values).max()) or 1.0


def _image_row(figure, axes, maps, titles, cmap, vmin, vmax, label):
    for ax, values, title in zip(axes, maps, titles):
        image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    figure.colorbar(image, ax=list(axes), shrink=0.85, fraction=0.04, pad=0.02, label=label)


def channels_figure(latent, title="Latent channels (scaled units)"):
    """The C channels of one latent (C, h, w) side by side, on one colour scale with one bar."""
    latent = np.asarray(latent, dtype=np.float32)
    figure = new_figure(2.4 * len(latent) + 1.0, 2.9, margins=IMAGE_MARGINS, wspace=0.05)
    axes = figure.subplots(1, len(latent), squeeze=False)[0]
    limit = _symmetric_limit(latent)
    _image_row(figure, axes, latent, [f"channel {c}" for c in range(len(latent))],
               DIVERGING, -limit, limit, "value")
    figure.suptitle(title, fontsize=11)
    return figure


def posterior_figure(mean, std):
    """μ (top row, shared diverging scale) and σ (bottom row, shared scale from 0) per channel."""
    mean, std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
    channels = len(mean)
    figure = new_figure(2.4 * channels + 1.0, 4.4, margins=IMAGE_MARGINS, wspace=0.05, hspace=0.25)
    axes = figure.subplots(2, channels, squeeze=False)
    limit = _symmetric_limit(mean)
    _image_row(figure, axes[0], mean, [f"μ, channel {c}" for c in range(channels)], DIVERGING, -limit, limit, "μ")
    _image_row(figure, axes[1], std, [f"σ, channel {c}" for c in range(channels)], SEQUENTIAL, 0, float(std.max()) or 1.0, "σ")
    figure.suptitle("Where the encoder puts this picture: a Gaussian per latent cell", fontsize=11)
    return figure


def histogram_figure(latent):
    """Histogram of all latent values against the N(0, 1) density the KL term pulls toward."""
    values = np.asarray(latent, dtype=np.float32).ravel()
    figure = new_figure(6.0, 3.2, margins=CURVE_MARGINS)
    ax = figure.subplots()
    limit = max(4.0, float(np.abs(values).max()))
    ax.hist(values, bins=60, range=(-limit, limit), density=True, color="#4c72b0", alpha=0.75, label="latent values")
    x = np.linspace(-limit, limit, 200)
    ax.plot(x, np.exp(-x ** 2 / 2) / math.sqrt(2 * math.pi), color="#dd5533", lw=2, label="N(0, 1)")
    ax.set_xlabel("value (scaled units)")
    ax.set_ylabel("density")
    ax.legend(frameon=False)
    ax.set_title(f"mean {values.mean():.2f}, std {values.std():.2f}", fontsize=10)
    return figure


def sample_spread_figure(pixel_std, difference, n_samples):
    """Two maps of the same picture, in grey levels: how much each pixel varies across the
    samples, and how far the samples land from the decode of μ."""
    figure = new_figure(8.4, 3.3, margins=(0.1, 0.1, 0.8, 0.35), wspace=0.35)
    for ax, values, title in zip(figure.subplots(1, 2), (pixel_std, difference), (
            f"spread across the {n_samples} samples (std)", "mean |decode(z) − decode(μ)|")):
        image = ax.imshow(np.asarray(values, np.float32), cmap=SEQUENTIAL, vmin=0)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=10)
        figure.colorbar(image, ax=ax, shrink=0.8, fraction=0.05, pad=0.03, label="grey levels (0-255)")
    return figure


def path_change_figure(changes_by_model):
    """Pixel change between consecutive frames of each model's path: flat means smooth."""
    figure = new_figure(6.0, 3.2, margins=CURVE_MARGINS)
    ax = figure.subplots()
    for name, changes in changes_by_model.items():
        ax.plot(range(1, len(changes) + 1), changes, marker="o", ms=3, label=name)
    ax.set_xlabel("step along the path from A to B")
    ax.set_ylabel("mean pixel change (0-255)")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("How much the picture changes at each step", fontsize=10)
    return figure


def offset_change_figure(offsets, changes, unit):
    """How far each frame of a channel traversal moves from the reconstruction, per offset."""
    figure = new_figure(6.0, 3.2, margins=CURVE_MARGINS)
    ax = figure.subplots()
    ax.plot(offsets, changes, marker="o", ms=3, color="#4c72b0")
    ax.axvline(0, ls="--", color="grey", lw=1)
    ax.set_xlabel(f"offset added to the channel (in units of {unit})")
    ax.set_ylabel("mean pixel change (0-255)")
    ax.set_ylim(bottom=0)
    ax.set_title("How much the picture moves away from its reconstruction", fontsize=10)
    return figure


def walk_figure(norms_by_method, crossfade_db_by_method, typical_norm=None):
    """Left: ‖z‖ along each path. Right: how close each decoded frame is to a plain pixel
    crossfade of the two ends (dB; above about 30 the two look the same)."""
    figure = new_figure(9.0, 3.2, margins=CURVE_MARGINS, wspace=0.4)
    left, right = figure.subplots(1, 2)
    for method, norms in norms_by_method.items():
        left.plot(np.linspace(0, 1, len(norms)), norms, marker="o", ms=3, label=method)
    if typical_norm:
        left.axhline(typical_norm, ls="--", color="grey", lw=1, label="√dim (typical ‖z‖ under N(0, I))")
    left.set(xlabel="t (0 = image A, 1 = image B)", ylabel="‖z‖")
    left.set_title("Latent norm along the path", fontsize=10)
    left.legend(frameon=False, fontsize=8)
    for method, distances in crossfade_db_by_method.items():
        ts = np.linspace(0, 1, len(distances))
        points = [(t, d) for t, d in zip(ts, distances) if d is not None]
        if points:
            right.plot(*zip(*points), marker="o", ms=3, label=method)
    right.axhline(30, ls="--", color="grey", lw=1, label="30 dB: looks the same")
    right.set(xlabel="t (0 = image A, 1 = image B)", ylabel="dB from the crossfade (higher = closer)")
    right.set_title("How close each frame is to a pixel crossfade", fontsize=10)
    right.legend(frameon=False, fontsize=8)
    return figure


def label_mix_figure(mixes):
    """What each model's decodes of z ~ N(0, I) are, by the classifier's label: bars per label."""
    figure = new_figure(7.0, 3.0)
    ax = figure.subplots()
    labels = list(next(iter(mixes.values())))
    width = 0.8 / len(mixes)
    for index, (name, mix) in enumerate(mixes.items()):
        ax.bar(np.arange(len(labels)) + (index - (len(mixes) - 1) / 2) * width, [mix[label] for label in labels],
               width, label=name)
    ax.set_xticks(range(len(labels)), [str(label) for label in labels])
    ax.set_ylabel("decodes of z ~ N(0, I)")
    ax.set_title("What random latents decode to, by the classifier's label", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    return figure
