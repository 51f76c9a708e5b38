"""Procedurally drawn scenes: training data that needs no download.

Two kinds: `random_texture_scene` (free-form shapes, gradients, lines and noise, for the
VAE) and captioned `Scene`s (one kind of shape on a plain background, for text-to-image).
"""

from dataclasses import dataclass
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

COLOURS = {
    "red": (220, 30, 30),
    "orange": (245, 140, 20),
    "yellow": (245, 220, 30),
    "green": (40, 170, 60),
    "blue": (30, 70, 220),
    "purple": (140, 50, 190),
    "pink": (245, 130, 190),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
    "brown": (130, 80, 40),
    "grey": (128, 128, 128),
    "cyan": (40, 200, 220),
}
SHAPES = ("circle", "square", "triangle", "diamond", "star")
SIZES = {"small": 0.16, "big": 0.30}
POSITIONS = {
    "on the left": (0.27, 0.5),
    "on the right": (0.73, 0.5),
    "at the top": (0.5, 0.27),
    "at the bottom": (0.5, 0.73),
    "in the centre": (0.5, 0.5),
}
COUNT_WORDS = {1: "a", 2: "two", 3: "three"}


def shape_polygon(shape, cx, cy, radius, angle=0.0):
    """Corner points of a shape centred at (cx, cy); None for a circle."""
    corners = {"square": 4, "triangle": 3, "diamond": 4, "star": 10}.get(shape)
    if corners is None:
        return None
    start = {"square": math.pi / 4, "diamond": 0.0}.get(shape, -math.pi / 2) + angle
    points = []
    for k in range(corners):
        r = radius * (0.45 if shape == "star" and k % 2 else 1.0)
        theta = start + 2 * math.pi * k / corners
        points.append((cx + r * math.cos(theta), cy + r * math.sin(theta)))
    return points


def draw_shape(draw, shape, cx, cy, radius, fill, angle=0.0):
    polygon = shape_polygon(shape, cx, cy, radius, angle)
    if polygon is None:
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=fill)
    else:
        draw.polygon(polygon, fill=fill)


@dataclass(frozen=True)
class Scene:
    """One captioned scene: `count` shapes of one colour and size, placed on a plain background."""

    shape: str
    colour: str
    background: str
    count: int = 1
    size: str = "big"
    position: str = "in the centre"

    def caption(self, rng=None, size_share=0.7, position_share=0.7):
        """'two small red circles on the left on a blue background'. With `rng`, the size
        and position words are kept in only `size_share` and `position_share` of captions,
        so short prompts work too."""
        keep_size = rng is None or rng.random() < size_share
        keep_position = rng is None or rng.random() < position_share
        noun = self.shape + ("s" if self.count > 1 else "")
        words = [COUNT_WORDS[self.count]] + ([self.size] if keep_size else []) + [self.colour, noun]
        if words[0] == "a" and words[1][0] in "aeiou":
            words[0] = "an"
        if keep_position:
            words.append(self.position)
        article = "an" if self.background[0] in "aeiou" else "a"
        return " ".join(words + ["on", article, self.background, "background"])

    def render(self, size=128, rng=None):
        rng = rng or np.random.default_rng(0)
        image = Image.new("RGB", (size, size), COLOURS[self.background])
        draw = ImageDraw.Draw(image)
        radius = min(SIZES[self.size] * size, 0.9 * size / (2.2 * self.count))
        cx, cy = (v * size for v in POSITIONS[self.position])
        # Several shapes line up across the position's axis, a little jittered.
        horizontal = self.position in ("at the top", "at the bottom", "in the centre")
        gap = 2.2 * radius
        for k in range(self.count):
            offset = (k - (self.count - 1) / 2) * gap
            x = cx + (offset if horizontal else 0) + rng.normal(0, size * 0.01)
            y = cy + (0 if horizontal else offset) + rng.normal(0, size * 0.01)
            draw_shape(draw, self.shape, x, y, radius, COLOURS[self.colour])
        return image


def random_scene(rng):
    """A random captioned scene whose shape colour differs from its background."""
    colours = list(COLOURS)
    colour = colours[rng.integers(len(colours))]
    background = colour
    while background == colour:
        background = colours[rng.integers(len(colours))]
    return Scene(
        shape=SHAPES[rng.integers(len(SHAPES))],
        colour=colour,
        background=background,
        count=int(rng.integers(1, 4)),
        size=list(SIZES)[rng.integers(len(SIZES))],
        position=list(POSITIONS)[rng.integers(len(POSITIONS))],
    )


def _random_colour(rng):
    return tuple(int(c) for c in rng.integers(0, 256, 3))


def _background(rng, size):
    """A solid colour, a linear gradient, or smooth coloured noise; (size, size, 3) uint8."""
    kind = rng.integers(3)
    if kind == 0:
        return np.broadcast_to(np.array(_random_colour(rng), np.uint8), (size, size, 3)).copy()
    if kind == 1:
        a, b = np.array(_random_colour(rng)), np.array(_random_colour(rng))
        angle = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:size, 0:size] / size
        t = (np.cos(angle) * xx + np.sin(angle) * yy)
        t = (t - t.min()) / (np.ptp(t) + 1e-6)
        return (a * (1 - t[..., None]) + b * t[..., None]).astype(np.uint8)
    cells = int(rng.integers(2, 9))
    coarse = rng.integers(0, 256, (cells, cells, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(coarse).resize((size, size), Image.BICUBIC))


def random_texture_scene(rng, size=64):
    """Free-form training picture for the VAE: background, shapes, lines, a little noise."""
    image = Image.fromarray(_background(rng, size))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 7))):
        cx, cy = rng.uniform(0, size, 2)
        radius = rng.uniform(0.04, 0.35) * size
        shape = SHAPES[rng.integers(len(SHAPES))]
        draw_shape(draw, shape, cx, cy, radius, _random_colour(rng), rng.uniform(0, math.pi))
    for _ in range(int(rng.integers(0, 4))):
        x0, y0, x1, y1 = rng.uniform(0, size, 4)
        draw.line([x0, y0, x1, y1], fill=_random_colour(rng), width=int(rng.integers(1, 4)))
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    pixels = np.asarray(image).astype(np.float32)
    if rng.random() < 0.2:  # a little sensor-like noise; more cannot be kept by any 8x autoencoder
        pixels += rng.normal(0, rng.uniform(1, 5), pixels.shape)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
