import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from latent_lab.imaging import ImageError, fit_to_model, load_image, to_pil, to_tensor
from tests.conftest import photo_like


def png_header_only(width, height, first_chunk=b""):
    """A PNG that declares width x height pixels but carries almost no data (a 'bomb'); with
    `first_chunk`, an ancillary chunk of that text comes before the header (Pillow still opens it)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    before = chunk(b"tEXt", b"note\0" + first_chunk) if first_chunk else b""
    return (b"\x89PNG\r\n\x1a\n" + before + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
            + chunk(b"IEND", b""))


def saved(image, tmp_path, name, **options):
    path = tmp_path / name
    image.save(path, **options)
    return path


@pytest.mark.parametrize("content, name", [
    (b"", "empty.png"),
    (b"just some text, not a picture", "notes.png"),
    (b"<html><body>hello</body></html>", "page.png"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "drawing.svg"),
])
def test_non_pictures_are_refused_with_what_is_accepted(tmp_path, content, name):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageError, match="PNG, JPEG"):
        load_image(path)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files_are_refused(tmp_path, fmt):
    buffer = io.BytesIO()
    photo_like(256, 256).save(buffer, format=fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match="could not be read"):
        load_image(path)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(30000, 30000))
    assert path.stat().st_size < 200
    with pytest.raises(ImageError, match="too"):
        load_image(path)


@pytest.mark.parametrize("size", [(1, 1), (7, 13)])
def test_tiny_pictures_are_refused(tmp_path, size):
    path = saved(Image.new("RGB", size, "red"), tmp_path, "tiny.png")
    with pytest.raises(ImageError, match="at least 16 pixels"):
        load_image(path)


def test_large_photo_is_accepted_and_fitted(tmp_path):
    path = saved(photo_like(8000, 6000), tmp_path, "big.jpg", quality=70)
    image = fit_to_model(load_image(path), max_side=512, multiple=8)
    assert image.size == (512, 384)


def test_16_bit_grey_keeps_its_brightness(tmp_path):
    ramp = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    path = saved(Image.fromarray(ramp), tmp_path, "deep.png")
    assert Image.open(path).mode.startswith("I")
    pixels = np.asarray(load_image(path))
    assert pixels.shape == (64, 64, 3)
    assert pixels[0, 0, 0] == 0 and pixels[-1, -1, 0] == 255
    assert 120 < pixels.mean() < 135  # a ramp stays a ramp, not clipped white


def test_transparency_becomes_white(tmp_path):
    rgba = Image.new("RGBA", (32, 32), (255, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 16, 32))
    pixels = np.asarray(load_image(saved(rgba, tmp_path, "alpha.png")))
    assert tuple(pixels[0, 0]) == (0, 0, 255)
    assert tuple(pixels[0, -1]) == (255, 255, 255)


def test_palette_with_transparency_becomes_white(tmp_path):
    palette = Image.new("P", (32, 32), 0)
    palette.putpalette([0, 255, 0, 9, 9, 9] + [0] * 762)
    palette.paste(1, (0, 0, 16, 32))
    path = saved(palette, tmp_path, "palette.png", transparency=1)
    pixels = np.asarray(load_image(path))
    assert tuple(pixels[0, 0]) == (255, 255, 255)
    assert tuple(pixels[0, -1]) == (0, 255, 0)


@pytest.mark.parametrize("mode, name", [("L", "grey.png"), ("CMYK", "print.jpg")])
def test_grey_and_cmyk_become_rgb(tmp_path, mode, name):
    image = photo_like(48, 32).convert(mode)
    loaded = load_image(saved(image, tmp_path, name))
    assert loaded.mode == "RGB" and loaded.size == (48, 32)


def test_animation_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "blue", "green")]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    red, green, blue = np.asarray(load_image(path))[5, 5]
    assert red > 200 and green < 50 and blue < 50


def test_exif_rotation_is_applied(tmp_path):
    wide = photo_like(64, 32)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = saved(wide, tmp_path, "rotated.jpg", exif=exif.tobytes())
    assert load_image(path).size == (32, 64)


@pytest.mark.parametrize("size, expected", [((640, 480), (512, 384)), ((100, 61), (96, 56)), ((300, 20), (296, 16))])
def test_fit_to_model_limits_the_long_side_and_rounds_to_the_factor(size, expected):
    assert fit_to_model(Image.new("RGB", size), max_side=512, multiple=8).size == expected


def test_tensor_round_trip_is_exact():
    image = photo_like(40, 24)
    tensor = to_tensor(image)
    assert tensor.shape == (1, 3, 24, 40)
    assert tensor.min() >= -1 and tensor.max() <= 1
    assert np.array_equal(np.asarray(to_pil(tensor)), np.asarray(image))


def test_to_pil_clamps_out_of_range_values():
    pixels = torch.tensor([-3.0, 3.0]).reshape(1, 1, 2).expand(3, 1, 2)
    assert np.asarray(to_pil(pixels))[0].tolist() == [[0, 0, 0], [255, 255, 255]]

