"""The 2-D latent map: geometry, digit framing, a tiny model built here, and the shipped model."""

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from latent_lab import digits8 as digits
from latent_lab.checks import InputError
from latent_lab.config import DIGITS_VAE


@pytest.fixture(scope="module")
def tiny_digits_vae():
    torch.manual_seed(0)
    return digits.DigitsVAE(hidden=16).eval().requires_grad_(False)


def random_digits(count, seed=0):
    return np.random.default_rng(seed).integers(0, 17, (count, 8, 8)).astype(np.uint8)


def test_grid_points_run_row_by_row_from_the_top_left():
    points = digits.grid_points(5, extent=3.0)
    assert points.shape == (25, 2)
    np.testing.assert_allclose(points[0], [-2.4, 2.4], atol=1e-6)  # top left: z1 low, z2 high
    np.testing.assert_allclose(points[4], [2.4, 2.4], atol=1e-6)
    np.testing.assert_allclose(points[-1], [2.4, -2.4], atol=1e-6)


def test_map_pixels_and_latent_points_round_trip():
    for point in [(0.0, 0.0), (-2.9, 1.3), (2.5, -2.5)]:
        x, y = digits.to_map_pixel(point, 15)
        np.testing.assert_allclose(digits.from_map_pixel(x, y, 15), point, atol=1e-9)
    assert digits.to_map_pixel((0, 0), 10) == (5 * digits.CELL, 5 * digits.CELL)  # the centre


def test_a_drawn_digit_is_framed_like_the_training_digits():
    picture = Image.new("RGB", (300, 200), "white")
    ImageDraw.Draw(picture).rectangle([140, 30, 160, 170], fill="black")  # a "1": a tall dark bar
    ink = digits.digit_from_picture(picture)
    assert ink.shape == (8, 8) and ink.dtype == np.uint8
    assert ink.max() == 16 and ink.min() == 0
    assert ink[:, 3:5].mean() > 8 and ink[:, :2].sum() == 0 and ink[:, 6:].sum() == 0  # centred, full height
    inverted = Image.fromarray(255 - np.asarray(picture))  # light ink on dark gives the same digit
    np.testing.assert_array_equal(digits.digit_from_picture(inverted), ink)
    assert digits.digit_from_picture(Image.new("RGB", (50, 50), "white")).sum() == 0


def test_the_model_saves_and_loads_as_a_diffusers_folder(tiny_digits_vae, tmp_path):
    tiny_digits_vae.save_pretrained(tmp_path, safe_serialization=True)
    loaded = digits.load_model(tmp_path)
    points = np.array([[0.5, -1.0], [2.0, 2.0]], dtype=np.float32)
    assert torch.equal(digits.decode(loaded, points), digits.decode(tiny_digits_vae, points))


def test_tiny_model_encodes_to_points_and_decodes_to_ink(tiny_digits_vae):
    points = digits.encode(tiny_digits_vae, random_digits(6))
    assert points.shape == (6, 2) and torch.isfinite(points).all()
    ink = digits.decode(tiny_digits_vae, points)
    assert ink.shape == (6, 8, 8) and 0 <= ink.min() and ink.max() <= 1


def test_latent_map_view(tiny_digits_vae, tmp_path):
    test_digits = (random_digits(20), np.arange(20) % 10)
    drawn = tmp_path / "digit.png"
    picture = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(picture).ellipse([12, 8, 52, 56], outline="black", width=6)  # a "0"
    picture.save(drawn)
    result = digits.latent_map_view(tiny_digits_vae, test_digits, "tiny", grid_size=7, z1=1.5, z2=-0.5, file=drawn)
    assert result.map_image.size == (7 * digits.CELL, 7 * digits.CELL)
    assert result.picked_image.size == (256, 256)
    summary = result.summary
    assert summary["grid_size"] == 7 and summary["latent_range"] == [-digits.LATENT_RANGE, digits.LATENT_RANGE]
    assert summary["picked"] == [1.5, -0.5] and summary["test_digits"] == 20
    assert len(summary["uploaded_point"]) == 2 and len(summary["nearest_labels"]) == 5
    # Each corner cell shows the decode of its grid point.
    corner = np.asarray(result.map_image)[:digits.CELL, :digits.CELL]
    expected = np.asarray(digits.digit_picture(digits.decode(tiny_digits_vae, digits.grid_points(7)[:1])[0]))
    assert (corner == expected).all(axis=2).mean() > 0.8  # a test digit's dot may cover a little of it
    for bad in [dict(grid_size=3), dict(z1=9.0), dict(z2=float("nan"))]:
        with pytest.raises(InputError):
            digits.latent_map_view(tiny_digits_vae, test_digits, "tiny", **{"grid_size": 7, **bad})


@pytest.mark.skipif(not (DIGITS_VAE / "config.json").exists(), reason="the digits model is not trained yet")
def test_the_shipped_digits_map_groups_digits_by_label():
    """Test digits (never seen in training) that land near each other mostly share a label."""
    vae = digits.load_model(DIGITS_VAE)
    images, labels = digits.load_test_digits(DIGITS_VAE)
    points = digits.encode(vae, images)
    inside = (points.abs() <= digits.LATENT_RANGE).all(dim=1).float().mean()
    assert inside > 0.95, inside  # the KL term keeps the digits near N(0, I): nearly all on the map
    distances = torch.cdist(points, points)
    distances.fill_diagonal_(float("inf"))
    neighbour = distances.argmin(dim=1).numpy()
    agreement = (labels[neighbour] == labels).mean()
    assert agreement > 0.6, agreement  # chance is about 0.1
