"""The Channels tab: the latent channels as pictures and their values against N(0, 1)."""

from dataclasses import dataclass

from latent_lab import plots
from latent_lab.cache import posteriors, prepare
from latent_lab.checks import model_name, round_summary


@dataclass
class ChannelsResult:
    channels_plot: object
    histogram_plot: object
    summary: dict


def channels_view(vae, source, file, max_side=512):
    image = prepare(vae, file, max_side)
    mean = posteriors.get(vae, image).mean[0].numpy()  # (C, h, w)
    channels = [{"mean": float(c.mean()), "std": float(c.std()), "min": float(c.min()), "max": float(c.max())} for c in mean]
    summary = {"channels": [round_summary(c) for c in channels], "latent_shape": list(mean.shape), "model": model_name(source)}
    return ChannelsResult(plots.channels_figure(mean, "Latent channels: μ of each cell (scaled units)"),
                          plots.histogram_figure(mean), summary)
