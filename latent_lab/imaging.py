"""Untrusted image files in, clean RGB pictures and tensors out."""

import warnings

import numpy as np
import torch
from PIL import Image, ImageOps

ACCEPTED = "a PNG, JPEG, WebP, GIF, BMP or TIFF picture"
MAX_PIXELS = 64_000_000  # 8000x8000; anything larger is refused before decoding
MIN_SIDE = 16


class ImageError(ValueError):
    """An uploaded file that cannot be used as a picture; the message says what is accepted."""


def load_image(file):
    """Open `file` (a path or file object) as an upright RGB image.

    EXIF rotation is applied, transparency is put on white, 16-bit and palette, grey or CMYK
    pictures are converted, and animations give their first frame.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(
                    f"This picture is {width}x{height} pixels, too large to open safely. "
                    f"Use {ACCEPTED} of at most {MAX_PIXELS // 1_000_000} megapixels.")
            image.seek(0)  # first frame of an animation
            image.load()
            image = ImageOps.exif_transpose(image)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(f"This picture declares too many pixels to open safely. Use {ACCEPTED} "
                         f"of at most {MAX_PIXELS // 1_000_000} megapixels.") from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ImageError(f"This file could not be read as a picture ({error}). "
                         f"Upload {ACCEPTED}.") from error
    if min(image.size) < MIN_SIDE:
        raise ImageError(f"This picture is only {image.width}x{image.height} pixels. "
                         f"Use {ACCEPTED} at least {MIN_SIDE} pixels on each side.")
    return to_rgb(image)


def to_rgb(image):
    """Any PIL mode to 8-bit RGB; transparent parts become white."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        pixels = np.asarray(image, dtype=np.float64)
        top = 65535.0 if pixels.max() > 255 else 255.0
        image = Image.fromarray((pixels / top * 255).clip(0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


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
