"""Photographs that ship inside installed packages (scikit-image, matplotlib): no download.

Some photos are held out: they are never used in training, only to measure quality.
"""

from functools import cache

import numpy as np
from PIL import Image

# skimage.data loaders whose images are colour or grey photographs bundled in the wheel.
TRAIN_PHOTOS = ("astronaut", "chelsea", "hubble_deep_field", "immunohistochemistry",
                "camera", "brick", "grass", "gravel", "moon", "horse", "page", "clock")
HELD_OUT_PHOTOS = ("coffee", "rocket", "grace_hopper")


def _load(name):
    if name == "grace_hopper":  # matplotlib's sample data
        from matplotlib import cbook
        with cbook.get_sample_data("grace_hopper.jpg") as f:
            return Image.open(f).convert("RGB")
    from skimage import data
    pixels = np.asarray(getattr(data, name)())
    if pixels.dtype == bool:
        pixels = pixels.astype(np.uint8) * 255
    return Image.fromarray(pixels).convert("RGB")


@cache
def load_photos(names):
    """The named photos as RGB images, skipping any the installed packages do not have."""
    photos = []
    for name in names:
        try:
            photos.append(_load(name))
        except Exception as error:  # a package version without that photo
            print(f"skipping photo {name}: {error}")
    return tuple(photos)


def random_crop(rng, photos, size=64):
    """A random crop of a random photo, rescaled (0.25x to 1x) and maybe flipped."""
    photo = photos[rng.integers(len(photos))]
    scale = rng.uniform(0.25, 1.0)
    w, h = photo.size
    scale = max(scale, size / min(w, h))
    photo = photo.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BILINEAR)
    x = int(rng.integers(0, photo.width - size + 1))
    y = int(rng.integers(0, photo.height - size + 1))
    crop = photo.crop((x, y, x + size, y + size))
    return crop.transpose(Image.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else crop
