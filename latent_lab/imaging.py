"""Untrusted image files in, clean RGB pictures and tensors out.

The only place that opens a user's file. An upload is read once, as bytes, from inside the
folders Gradio received it in (`read_upload`); pictures are opened only in the formats the
page names, and their size is checked before a pixel is decoded (`load_image`).
"""

import io
import logging
import os
from pathlib import Path
import stat
import warnings

import numpy as np
import torch
from PIL import Image, ImageOps

ACCEPTED = "a PNG, JPEG, WebP, GIF, BMP or TIFF picture"
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")  # what ACCEPTED names; never EPS, ICO, ...
MAX_PIXELS = 64_000_000  # 8000x8000; anything larger is refused before decoding
MAX_FILE_BYTES = 64_000_000  # an upload larger than this is not read at all
MIN_SIDE = 16
UNREADABLE = f"This file could not be read as a picture. Upload {ACCEPTED}."
log = logging.getLogger(__name__)


class ImageError(ValueError):
    """An uploaded file that cannot be used as a picture; the message says what is accepted."""


def read_upload(path, folders, max_bytes=MAX_FILE_BYTES):
    """The bytes of `path` if it is a regular file inside one of `folders` (after resolving `..`
    and symbolic links). Anything else, a server file, a pipe, a folder or a missing file, gets
    the same sentence as a file that is no picture, so a caller learns nothing of the server."""
    try:
        real = Path(os.path.realpath(os.fspath(path)))
        inside = any(real.is_relative_to(os.path.realpath(folder)) for folder in folders)
        if not inside:
            raise ImageError(UNREADABLE)
        # O_NONBLOCK: opening a pipe returns at once instead of waiting for a writer.
        descriptor = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ImageError(UNREADABLE)
            data = file.read(max_bytes + 1)
    except ImageError:
        log.info("refused an upload path outside the upload folders or not a regular file")
        raise
    except (OSError, TypeError, ValueError) as error:
        log.info("could not read an upload: %s", type(error).__name__)
        raise ImageError(UNREADABLE) from None
    if len(data) > max_bytes:
        raise ImageError(f"This file is larger than {max_bytes // 1_000_000} MB. Upload {ACCEPTED} that is smaller.")
    return data


def load_image(file, max_side=None):
    """Open `file` (bytes, a path or a file object) as an upright RGB image.

    EXIF rotation is applied, transparency is put on white, 16-bit and palette, grey or CMYK
    pictures are converted, and animations give their first frame. With `max_side` (the size the
    picture will be used at) a JPEG decodes at 1/2, 1/4 or 1/8 scale where that still covers
    max_side, and a deep-colour picture is shrunk before conversion, so memory follows the
    working size rather than what the file declares.
    """
    if isinstance(file, (bytes, bytearray)):
        file = io.BytesIO(file)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file, formats=FORMATS)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(
                    f"This picture is {width}x{height} pixels, too large to open safely. "
                    f"Use {ACCEPTED} of at most {MAX_PIXELS // 1_000_000} megapixels.")
            image.seek(0)  # first frame of an animation
            if max_side:
                image.draft("RGB", (max_side, max_side))  # JPEG only; other formats ignore it
            image.load()
            ImageOps.exif_transpose(image, in_place=True)  # no full-size copy when nothing turns
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(f"This picture declares too many pixels to open safely. Use {ACCEPTED} "
                         f"of at most {MAX_PIXELS // 1_000_000} megapixels.") from error
    except (OSError, ValueError, SyntaxError, EOFError, TypeError) as error:
        log.info("an upload could not be decoded: %s", type(error).__name__)  # no path, no detail to the user
        raise ImageError(UNREADABLE) from None
    if min(image.size) < MIN_SIDE:
        raise ImageError(f"This picture is only {image.width}x{image.height} pixels. "
                         f"Use {ACCEPTED} at least {MIN_SIDE} pixels on each side.")
    return to_rgb(image, max_side)


DEEP_MODES = ("I", "I;16", "I;16B", "I;16L", "F")  # 16- and 32-bit integer and float pictures


def to_rgb(image, max_side=None):
    """Any PIL mode to 8-bit RGB; transparent parts become white."""
    if image.mode in DEEP_MODES:
        image = deep_to_8bit(image, max_side)
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def deep_to_8bit(image, max_side=None):
    """A 16- or 32-bit grey picture as 8-bit grey (0-65535 or 0-255 onto 0-255), in float32 and,
    when it is over twice `max_side`, after a box shrink that keeps it at least max_side."""
    if max_side and max(image.size) > 2 * max_side:
        factor = max(image.size) // max_side
        image = image.resize((max(1, image.width // factor), max(1, image.height // factor)), Image.BOX)
    pixels = np.asarray(image, dtype=np.float32)
    top = 65535.0 if pixels.max() > 255 else 255.0
    return Image.fromarray((pixels * np.float32(255 / top)).clip(0, 255).astype(np.uint8))


def fit_to_model(image, max_side=512, multiple=8):
    """Shrink so the longest side is at most `max_side`, then centre-crop both sides
    down to a multiple of the VAE's downsampling factor."""
    scale = min(1.0, max_side / max(image.size))
    width, height = (max(multiple, round(side * scale)) for side in image.size)
    if (width, height) != image.size:
        image = image.resize((width, height), Image.LANCZOS)
    crop_w, crop_h = width - width % multiple, height - height % multiple
    left, top = (width - crop_w) // 2, (height - crop_h) // 2
    return image.crop((left, top, left + crop_w, top + crop_h))


def to_tensor(image):
    """RGB PIL image -> (1, 3, H, W) float tensor in [-1, 1]."""
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 127.5 - 1.0)
    return pixels.permute(2, 0, 1).unsqueeze(0)


def to_pil(pixels):
    """(3, H, W) or (1, 3, H, W) tensor in [-1, 1] -> RGB PIL image."""
    pixels = pixels.detach().float().cpu().reshape(-1, *pixels.shape[-2:])
    array = ((pixels.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    return Image.fromarray(array)


def cover(image, size):
    """Fill exactly `size` (width, height): crop the centre of `image` to that shape, then resize.
    Cropping first keeps memory at `size`, however different the two shapes are."""
    width, height = size
    scale = max(width / image.width, height / image.height)
    crop_w, crop_h = min(image.width, width / scale), min(image.height, height / scale)
    left, top = (image.width - crop_w) / 2, (image.height - crop_h) / 2
    return image.resize((width, height), Image.LANCZOS, box=(left, top, left + crop_w, top + crop_h))


def strip(pictures, gap=6, group_gap=24, groups=()):
    """Pictures side by side on white; a wider gap before each index in `groups`."""
    width = sum(p.width for p in pictures) + gap * (len(pictures) - 1) + (group_gap - gap) * len(groups)
    canvas = Image.new("RGB", (width, max(p.height for p in pictures)), "white")
    x = 0
    for index, picture in enumerate(pictures):
        x += (group_gap - gap) if index in groups else 0
        canvas.paste(picture, (x, 0))
        x += picture.width + gap
    return canvas
