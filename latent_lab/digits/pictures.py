"""Digits as pictures: one plain picture per digit, and labelled grids of them.

Digits are shown as the models see them: light ink on black, like MNIST.
"""

from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from latent_lab.digits.classifier import judge, label_name

CLEAR_COLOUR, UNCLEAR_COLOUR = "#ffffff", "#ff9f43"  # captions of clear digits; of the others
CAPTION = 16  # pixels under each cell of a grid
TITLE = 150  # pixels left of each row of a grid, for its title


def to_picture(ink, scale=1):
    """(28, 28) ink in [0, 1] -> a greyscale PIL picture, scale x 28 pixels a side (no smoothing)."""
    array = (np.clip(np.asarray(ink, dtype=np.float32), 0, 1) * 255).round().astype(np.uint8)
    picture = Image.fromarray(array, mode="L")
    return picture if scale == 1 else picture.resize((28 * scale, 28 * scale), Image.NEAREST)


def caption(label, confidence, clear):
    """What a cell's caption says: its label ("none" for no digit) and the classifier's
    probability, e.g. "7 0.93"; white for a clear digit, orange otherwise."""
    name = label_name(label)
    return f"{'none' if name == 'no digit' else name} {confidence:.2f}", CLEAR_COLOUR if clear else UNCLEAR_COLOUR


def labelled(inks):
    """The classifier's verdict on (N, 28, 28) inks: labels, confidences, captions, clear (N,) bool."""
    labels, confidences, clear = judge(inks)
    return labels, confidences, [caption(*row) for row in zip(labels, confidences, clear)], clear


@cache
def font(size=12):
    return ImageFont.load_default(size=size)


def grid_picture(rows, captions=None, titles=None, scale=2):
    """Rows of digits -> one RGB picture. rows: a list of (K, 28, 28) inks; captions: per row a
    list of (text, colour) per cell, drawn under it; titles: one text per row, drawn at its left."""
    cell = 28 * scale
    below = CAPTION if captions else 0
    left = TITLE if titles else 0
    columns = max(len(row) for row in rows)
    canvas = Image.new("RGB", (left + columns * cell, len(rows) * (cell + below)), "black")
    draw = ImageDraw.Draw(canvas)
    for r, row in enumerate(rows):
        top = r * (cell + below)
        for c, ink in enumerate(row):
            canvas.paste(to_picture(ink, scale).convert("RGB"), (left + c * cell, top))
            if captions:
                text, colour = captions[r][c]
                draw.text((left + c * cell + 2, top + cell + 1), text, fill=colour, font=font(11))
        if titles:
            draw.text((4, top + cell // 2 - 7), titles[r], fill="white", font=font())
    return canvas
