"""A user's picture of a digit -> a 28x28 digit framed as MNIST's were made.

MNIST's digits were fitted into a 20x20 box keeping their aspect ratio (anti-aliased), then
placed in a 28x28 field with their centre of mass at its centre. We do the same, after turning
the picture into light ink on black, and after giving thin pens MNIST's stroke width.
"""

import numpy as np
from PIL import Image, ImageFilter

SIDE = 28  # MNIST's field
READ_SIDE = 512  # a drawing or a photo of a digit is read at about this size, whatever the file declares
BOX = 20  # the digit's longest side in it
CENTRE = 14.0  # where MNIST's digits have their centre of mass (row, column), measured
MIN_CONTRAST = 0.1  # ink this faint (of full scale) or less: an empty canvas
INK_THRESHOLD = 0.1  # share of the picture's contrast below which a pixel is background
WORK = 4 * BOX  # the ink is measured and thickened at 4x MNIST's resolution
STROKE = 0.14  # MNIST's median stroke width, as a share of the box (2.8 px of 20)


def ink_of(picture):
    """Any PIL picture -> (H, W) ink in [0, 1], light ink on black. Dark strokes on white (a
    sketchpad) and light on dark (MNIST) both work; transparent pixels are background."""
    if "A" in picture.getbands() or "transparency" in picture.info:
        rgba = np.asarray(picture.convert("RGBA"), dtype=np.float32) / 255
        grey, alpha = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32), rgba[..., 3]
        opaque = alpha > 0.5
        strokes_are_dark = not opaque.any() or grey[opaque].mean() < 0.5
        grey = alpha * grey + (1 - alpha) * (1.0 if strokes_are_dark else 0.0)  # background behind
    else:
        grey = np.asarray(picture.convert("L"), dtype=np.float32) / 255
    background = float(np.median(grey))
    ink = background - grey if background >= 0.5 else grey - background
    contrast = float(ink.max())
    if contrast < MIN_CONTRAST:
        return np.zeros_like(grey)
    ink = np.clip(ink / contrast, 0, 1)
    ink[ink < INK_THRESHOLD] = 0
    return ink


def stroke_width(ink):
    """Rough stroke width in pixels of a (H, W) ink picture: 2 x area / boundary length."""
    mask = ink > 0.5
    inner = mask.copy()
    inner[1:-1, 1:-1] &= mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    inner[[0, -1], :] = inner[:, [0, -1]] = False
    boundary = mask.sum() - inner.sum()
    return 2 * mask.sum() / max(1, boundary)


def _fit(ink, longest):
    """Resize (H, W) ink so its longest side is `longest` pixels, keeping its aspect ratio."""
    height, width = ink.shape
    scale = longest / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(ink).resize(size, Image.BILINEAR), dtype=np.float32)  # anti-aliased


def frame_digit(picture):
    """A PIL picture of one digit (any size and mode) -> (28, 28) float32 ink in [0, 1], light on
    black, framed like MNIST. An empty canvas gives all zeros (callers ask for a digit)."""
    # 1. Ink, and its bounding box.
    ink = ink_of(picture)
    rows, cols = np.nonzero(ink)
    if len(rows) == 0:
        return np.zeros((SIDE, SIDE), dtype=np.float32)
    ink = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    # 2. At 4x the box, thicken a thin pen to MNIST's stroke width (a max filter widens by size - 1).
    work = np.clip(_fit(ink, WORK), 0, 1)
    missing = STROKE * WORK - stroke_width(work)
    if missing > 0.4 * STROKE * WORK:
        size = int(missing) // 2 * 2 + 1
        work = np.asarray(Image.fromarray(work).filter(ImageFilter.MaxFilter(size)), dtype=np.float32)
    # 3. Into the 20x20 box, full ink at its darkest.
    small = np.clip(_fit(work, BOX), 0, 1)
    small /= max(small.max(), 1e-6)
    # 4. Centre of mass to MNIST's centre of the 28x28 field (whole pixels, as MNIST did).
    ys, xs = np.indices(small.shape)
    mass = small.sum()
    top = int(np.clip(np.floor(CENTRE - (ys * small).sum() / mass + 0.5), 0, SIDE - small.shape[0]))
    left = int(np.clip(np.floor(CENTRE - (xs * small).sum() / mass + 0.5), 0, SIDE - small.shape[1]))
    framed = np.zeros((SIDE, SIDE), dtype=np.float32)
    framed[top:top + small.shape[0], left:left + small.shape[1]] = small
    return framed
