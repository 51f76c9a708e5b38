import io
import os
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


def deep_png(width, height):
    """A 16-bit grey PNG of width x height, black on the left to white on the right, that stays a few
    hundred KB however large it declares itself: every row after the first repeats the one above
    (PNG's "Up" filter: all zeros), so it is written row by row without the picture in memory."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    ramp = (np.arange(width, dtype=np.uint32) * 65535 // (width - 1)).astype(">u2").tobytes()
    packer, same_as_above = zlib.compressobj(9), b"\2" + bytes(2 * width)
    body = [packer.compress(b"\0" + ramp)] + [packer.compress(same_as_above) for _ in range(height - 1)]
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(body) + packer.flush())
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



# Memory follows the working size. Pillow's own buffers are not seen by tracemalloc, so the whole
# cost is measured as the growth of the peak resident size (Linux's VmHWM: getrusage's maximum would
# start at the parent's size, as it survives the exec) of a fresh Python that loads one file.
PEAK_OF_ONE_LOAD = """
import sys
from latent_lab.imaging import load_image

def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))

data = open(sys.argv[1], "rb").read()
before = peak()
image = load_image(data, int(sys.argv[2]))
print(peak() - before, *image.size)
"""
MB = 2**20


def peak_of_one_load(path, max_side):
    """(how much a fresh process's peak resident memory grows while load_image reads `path` for
    `max_side`, in bytes; the loaded picture's size)."""
    import subprocess
    import sys
    from pathlib import Path
    if not Path("/proc/self/status").exists():
        pytest.skip("the peak resident size is read from /proc (Linux)")
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-c", PEAK_OF_ONE_LOAD, str(path), str(max_side)], cwd=root,
                         env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    growth, width, height = map(int, run.stdout.split())
    return growth, (width, height)


@pytest.fixture(scope="module")
def deep_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("deep") / "deep.png"
    path.write_bytes(deep_png(8000, 8000))  # 64 megapixels of 16-bit grey: 128 MB decoded, 156 KB here
    return path


def test_a_deep_colour_picture_is_shrunk_in_float32_before_it_becomes_8_bit(deep_file):
    import tracemalloc
    tracemalloc.start()  # sees numpy's arrays: float64 of the whole picture would be 512 MB, float32 256 MB
    try:
        image = load_image(deep_file.read_bytes(), max_side=512)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert image.size == (533, 533) and image.mode == "RGB"  # 8000 // 15: the box shrink keeps >= 512
    ramp = np.asarray(image)[0, :, 0]
    assert ramp[0] == 0 and ramp[-1] == 254 and np.all(np.diff(ramp.astype(int)) >= 0)
    assert peak < 16 * MB, peak / MB  # measured 4 MB: only the shrunk picture is converted


def test_a_deep_colour_picture_costs_a_fraction_of_what_it_did(deep_file):
    growth, size = peak_of_one_load(deep_file, 512)
    assert size == (533, 533)
    # Measured 244 MB (the 16-bit decode, 128 MB, and a copy of it); converting the whole picture to
    # float64 first, as before, cost +1.6 GB, and would cost at least 640 MB with this loader.
    assert growth < 400 * MB, growth / MB


def test_a_deep_colour_picture_costs_little_more_than_its_decode(deep_file):
    growth, _size = peak_of_one_load(deep_file, 512)
    assert growth < 1.25 * 8000 * 8000 * 2, growth / MB


def test_a_large_jpeg_is_decoded_near_the_working_size(tmp_path):
    path = tmp_path / "large.jpg"
    photo_like(8000, 8000).save(path, quality=60)
    assert load_image(path, max_side=512).size == (1000, 1000)  # JPEG's 1/8 scale: the smallest that covers 512
    growth, size = peak_of_one_load(path, 512)
    assert size == (1000, 1000)
    # Measured 10 MB; decoding all 64 megapixels (192 MB in RGB) cost +452 MB in the app.
    assert growth < 48 * MB, growth / MB
