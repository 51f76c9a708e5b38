"""latent_lab/photos/traverse.py on a tiny VAE: one channel pushed, everywhere or in a box."""

import numpy as np
import pytest

from latent_lab.photos import encode, traverse
from latent_lab.checks import InputError
from tests.conftest import SOURCE, close, pixels


@pytest.mark.parametrize("unit", ["sigma", "spread"])
def test_traversal_zero_offset_is_the_reconstruction_and_changes_grow(tiny_vae, photo_file, unit):
    result = traverse.traverse_view(tiny_vae, SOURCE, photo_file, channel=2, low=-4, high=4, steps=5, unit=unit)
    summary = result.summary
    assert summary["offsets"] == [-4.0, -2.0, 0.0, 2.0, 4.0] and summary["unit"] == unit
    assert len(result.frames) == 5 and result.frames[0].size == (96, 64)
    assert result.strip.size == (5 * 96 + 4 * 6, 64)
    reconstruction = encode.encode_view(tiny_vae, SOURCE, photo_file).reconstruction
    assert close(result.frames[2], reconstruction) and close(result.reconstruction, reconstruction)
    changes = summary["pixel_change"]
    assert changes[2] < 0.01 < changes[1] < changes[0] and changes[2] < changes[3] < changes[4]
    assert summary["channel"] == 2 and summary["model"] == SOURCE and summary["region"] is None
    again = traverse.traverse_view(tiny_vae, SOURCE, photo_file, channel=2, low=-4, high=4, steps=5, unit=unit)
    assert np.array_equal(pixels(again.strip), pixels(result.strip))


def test_traversal_in_a_region_leaves_far_pixels_alone(tiny_vae, photo_file):
    # latent 8x12 cells; change only the top-left 2x3 cells (16x24 pixels)
    region = traverse.traverse_view(tiny_vae, SOURCE, photo_file, channel=0, low=0, high=8, steps=2,
                                   unit="spread", region=(0, 0, 2, 3))
    whole = traverse.traverse_view(tiny_vae, SOURCE, photo_file, channel=0, low=0, high=8, steps=2, unit="spread")
    assert region.summary["region"] == [0, 0, 2, 3]
    moved = np.abs(pixels(region.frames[1]) - pixels(region.frames[0])).mean(axis=2)  # (64, 96)
    assert moved[:16, :24].mean() > 5 * moved[40:, 60:].mean()
    assert 0 < region.summary["pixel_change"][1] < whole.summary["pixel_change"][1]


@pytest.mark.parametrize("change, message", [
    (dict(channel=4), "Channel"), (dict(channel=-1), "Channel"), (dict(low=-11), "Lowest offset"),
    (dict(high=float("nan")), "Highest offset"), (dict(steps=1), "Steps"), (dict(steps=17), "Steps"),
    (dict(unit="pixels"), "sigma' or 'spread"), (dict(region=(0, 0, 9, 2)), "Region bottom"),
    (dict(region=(3, 0, 3, 2)), "Region bottom"), (dict(region=(0, 0, 2)), "four whole numbers"),
    (dict(region="0,0,2,2"), "four whole numbers"), (dict(region=(0, 12, 2, 13)), "Region left"),
])
def test_traversal_refuses_bad_settings(tiny_vae, photo_file, change, message):
    with pytest.raises(InputError, match=message):
        traverse.traverse_view(tiny_vae, SOURCE, photo_file, **{"channel": 0, "low": -1, "high": 1, "steps": 2, **change})


def test_traversal_in_sigma_needs_a_model_with_sigma(point_vae, photo_file):
    with pytest.raises(InputError, match="no σ .* 'spread'"):
        traverse.traverse_view(point_vae, SOURCE, photo_file, channel=0, unit="sigma", steps=2)
    result = traverse.traverse_view(point_vae, SOURCE, photo_file, channel=0, unit="spread", steps=2)
    assert len(result.frames) == 2
