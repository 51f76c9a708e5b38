"""latent_lab/photos/channels.py on a tiny VAE."""

import pytest

from latent_lab import cache
from latent_lab.photos import channels
from tests.conftest import SOURCE


def test_channels_summary_matches_the_posterior_mean(tiny_vae, photo_file):
    result = channels.channels_view(tiny_vae, SOURCE, photo_file)
    stats_per_channel = result.summary["channels"]
    assert len(stats_per_channel) == 4
    mean = cache.posteriors.get(tiny_vae, cache.prepare(tiny_vae, photo_file, 512)).mean[0]
    for stats, values in zip(stats_per_channel, mean):
        assert stats["min"] <= stats["mean"] <= stats["max"]
        assert stats["mean"] == pytest.approx(values.mean().item(), abs=1e-4)
