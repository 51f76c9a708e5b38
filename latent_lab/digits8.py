"""The 2-D latent map: a VAE whose whole latent is one point (z1, z2), trained on 8x8
handwritten  Decoding a grid of points draws the map; encoding a digit finds its place.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
import numpy as np
import torch
from torch import nn
from PIL import Image, ImageDraw, ImageOps

from latent_lab import imaging
from latent_lab.checks import check_number, model_name, round_summary

LATENT_RANGE = 4.0  # the map spans [-4, 4] on both axes: N(0, 1) and the digits that stray from it
CELL = 32  # pixels per decoded digit in the map
# One colour per label (matplotlib's tab10), for the encoded test 
LABEL_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


class DigitsVAE(ModelMixin, ConfigMixin):
    """A small fully connected VAE: an 8x8 digit (64 pixels) <-> a point (z1, z2) in the plane.
    Saved and loaded like any diffusers model (config.json + safetensors)."""

    @register_to_config
    def __init__(self, side=8, hidden=256, latent=2):
        super().__init__()
        pixels = side * side
        self.encoder = nn.Sequential(nn.Linear(pixels, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                     nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                     nn.Linear(hidden, pixels))

    def encode(self, pixels):
        """(N, side, side) in [-1, 1] -> posterior mean and log-variance, (N, latent) each."""
        mean, logvar = self.encoder(pixels.flatten(1)).chunk(2, dim=1)
        return mean, logvar.clamp(-30, 20)

    def decode(self, points):
        """(N, latent) -> (N, side, side) in [-1, 1]."""
        side = self.config.side
        return torch.tanh(self.decoder(points)).unflatten(1, (side, side))


@cache
def load_model(folder):
    """The digits VAE in `folder`, loaded once, in eval mode."""
    return DigitsVAE.from_pretrained(folder, torch_dtype=torch.float32, use_safetensors=True).eval().requires_grad_(False)


def load_test_digits(folder):
    """The held-out digits saved beside the model: images (N, 8, 8) uint8 in 0-16, labels (N,)."""
    with np.load(Path(folder) / "test_digits.npz") as data:
        return data["images"], data["labels"]


def to_pixels(digits):
    """(N, 8, 8) ink levels 0-16 -> (N, 8, 8) model input in [-1, 1]."""
    return torch.from_numpy(np.asarray(digits, dtype=np.float32) / 8.0 - 1.0)


@torch.inference_mode()
def encode(vae, digits):
    """Posterior means of digits: (N, 2) points in the plane."""
    return vae.encode(to_pixels(digits))[0]


@torch.inference_mode()
def decode(vae, points):
    """(N, 2) points -> (N, 8, 8) ink in [0, 1]."""
    pixels = vae.decode(torch.as_tensor(np.asarray(points), dtype=torch.float32).reshape(-1, 2))
    return (pixels + 1) / 2


def grid_points(size, extent=LATENT_RANGE):
    """Centres of a size x size grid over [-extent, extent]^2, row by row from the top (z2 high)."""
    centres = (np.arange(size) + 0.5) / size * 2 * extent - extent
    return np.array([(z1, z2) for z2 in centres[::-1] for z1 in centres], dtype=np.float32)


def to_map_pixel(point, size, extent=LATENT_RANGE, cell=CELL):
    """Where a latent point falls in a map of size x size cells: (x, y) in pixels."""
    side = size * cell
    return ((point[0] + extent) / (2 * extent) * side, (extent - point[1]) / (2 * extent) * side)


def from_map_pixel(x, y, size, extent=LATENT_RANGE, cell=CELL):
    """The latent point under pixel (x, y) of the map; the inverse of to_map_pixel."""
    side = size * cell
    return (x / side * 2 * extent - extent, extent - y / side * 2 * extent)


def digit_picture(ink, size=CELL):
    """(8, 8) ink in [0, 1] -> a size x size picture, dark ink on white."""
    array = ((1 - np.asarray(ink, dtype=np.float32)) * 255).round().astype(np.uint8)
    return Image.fromarray(array).resize((size, size), Image.BILINEAR).convert("RGB")


def draw_map(vae, size, points, labels, picked=None, uploaded=None):
    """Decodes of a size x size grid, the given points (coloured by label) on top, a cross at
    `picked` and a ring at `uploaded`."""
    inks = decode(vae, grid_points(size))
    canvas = Image.new("RGB", (size * CELL, size * CELL), "white")
    for index, ink in enumerate(inks):
        canvas.paste(digit_picture(ink), (index % size * CELL, index // size * CELL))
    draw = ImageDraw.Draw(canvas)
    for point, label in zip(points, labels):
        x, y = to_map_pixel(point, size)
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=LABEL_COLOURS[int(label)], outline="black")
    if uploaded is not None:
        x, y = to_map_pixel(uploaded, size)
        draw.ellipse([x - 12, y - 12, x + 12, y + 12], outline="black", width=4)
        draw.ellipse([x - 10, y - 10, x + 10, y + 10], outline="gold", width=3)
    if picked is not None:
        x, y = to_map_pixel(picked, size)
        draw.line([x - 10, y, x + 10, y], fill="red", width=3)
        draw.line([x, y - 10, x, y + 10], fill="red", width=3)
    return canvas


def digit_from_picture(image):
    """An RGB picture of one digit (any size, dark on light or light on dark) -> (8, 8) ink
    levels 0-16 framed like the training digits: the ink's bounding box, made square, in 8x8."""
    grey = np.asarray(ImageOps.grayscale(image), dtype=np.float32) / 255.0
    if np.median(grey) > 0.5:  # a light background: the ink is the dark part
        grey = 1.0 - grey
    grey = (grey - grey.min()) / max(1e-6, grey.max() - grey.min())
    rows, cols = np.nonzero(grey > 0.3)
    if len(rows) == 0:
        return np.zeros((8, 8), dtype=np.uint8)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    side = max(bottom - top, right - left)
    square = np.zeros((side, side), dtype=np.float32)
    y, x = (side - (bottom - top)) // 2, (side - (right - left)) // 2
    square[y:y + bottom - top, x:x + right - left] = grey[top:bottom, left:right]
    small = np.asarray(Image.fromarray((square * 255).astype(np.uint8)).resize((8, 8), Image.BOX), np.float32)
    return (small / max(1.0, small.max()) * 16).round().astype(np.uint8)  # thin strokes: full ink, as in training


@dataclass
class MapResult:
    map_image: Image.Image
    picked_image: Image.Image
    digit_image: Image.Image | None
    summary: dict


def latent_map_view(vae, test_digits, source, grid_size=15, z1=0.0, z2=0.0, file=None):
    """The digits VAE's latent plane: a grid of decodes with the test digits on top, the decode
    of the picked point (z1, z2), and where an uploaded digit lands."""
    grid_size = check_number(grid_size, "Grid size", 5, 25, integer=True)
    limit = LATENT_RANGE
    picked = (check_number(z1, "z1", -limit, limit), check_number(z2, "z2", -limit, limit))
    images, labels = test_digits
    points = encode(vae, images)
    summary = {"grid_size": grid_size, "latent_range": [-limit, limit], "picked": list(picked),
               "test_digits": len(labels), "model": model_name(source)}
    uploaded, digit_image = None, None
    if file is not None:
        ink = digit_from_picture(imaging.load_image(file))
        uploaded = encode(vae, ink[None])[0]
        nearest = (points - uploaded).norm(dim=1).argsort()[:5]
        summary["uploaded_point"] = uploaded.tolist()
        summary["nearest_labels"] = [int(labels[i]) for i in nearest]
        digit_image = digit_picture(ink / 16, size=128)
    map_image = draw_map(vae, grid_size, points.numpy(), labels, picked, uploaded)
    picked_image = digit_picture(decode(vae, [picked])[0], size=256)
    return MapResult(map_image, picked_image, digit_image, round_summary(summary))
