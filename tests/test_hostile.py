"""Hostile files and requests sent straight to the public API: each gets a clear sentence,
nothing outside the upload folders is served, and the next good request still works."""

import io

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from latent_lab.config import EXAMPLES
from tests.conftest import photo_like
from tests.test_imaging import png_header_only

PHOTO = str(EXAMPLES / "chelsea.jpg")


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def hostile_files(folder):
    """{name: (path, what the answer must say)}: every kind of bad upload, made here."""
    buffer = io.BytesIO()
    photo_like(300, 200).save(buffer, format="JPEG")
    cases = {
        "empty.png": (b"", "PNG, JPEG"),
        "notes.png": (b"hello, I am text", "PNG, JPEG"),
        "page.html": (b"<html><script>alert(1)</script></html>", "PNG, JPEG"),
        "drawing.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "PNG, JPEG"),
        "cut.jpg": (buffer.getvalue()[:2000], "could not be read"),
        "bomb.png": (png_header_only(30000, 30000), "too"),
    }
    paths = {}
    for name, (content, message) in cases.items():
        (folder / name).write_bytes(content)
        paths[name] = (folder / name, message)
    Image.new("RGB", (7, 13)).save(folder / "tiny.png")
    paths["tiny.png"] = (folder / "tiny.png", "at least 16 pixels")
    return paths


def test_every_bad_upload_gets_a_sentence_and_the_server_goes_on(client, tmp_path):
    for name, (path, message) in hostile_files(tmp_path).items():
        with pytest.raises(Exception, match=message):
            client.predict(handle_file(str(path)), api_name="/encode")
        summary = client.predict(handle_file(PHOTO), api_name="/channels")[-1]
        assert len(summary["channels"]) == 4, name


@pytest.mark.parametrize("size", [(8000, 6000)])
def test_a_huge_photo_is_accepted_and_shrunk(client, tmp_path, size):
    path = tmp_path / "huge.jpg"
    photo_like(*size).save(path, quality=60)
    _reconstruction, _plot, summary = client.predict(handle_file(str(path)), api_name="/encode")
    assert summary["image_size"] == [512, 384] and summary["latent_shape"] == [4, 48, 64]


def test_files_outside_the_upload_folders_are_not_served(app_url):
    for address in ("/gradio_api/file=/etc/passwd", "/file=/etc/passwd", "/gradio_api/file=../../../../etc/passwd"):
        response = httpx.get(app_url.rstrip("/") + address)
        assert response.status_code >= 400 and "root:" not in response.text


def test_a_path_outside_the_uploads_is_refused_as_input(app_url):
    base = app_url.rstrip("/") + "/gradio_api/call/encode"
    payload = {"data": [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}]}
    started = httpx.post(base, json=payload)
    if started.status_code >= 400:  # refused at the door
        return
    events = httpx.get(f"{base}/{started.json()['event_id']}", timeout=60).text
    assert "event: error" in events and "root:" not in events


def odd_but_valid_files(folder):
    """{name: (path, expected picture size after loading)}: pictures that are normalised and accepted."""
    photo = photo_like(120, 80)
    sixteen = Image.fromarray((np.asarray(photo.convert("L"), dtype=np.uint16) * 257))  # 16-bit grey
    sixteen.save(folder / "deep.png")
    photo.convert("RGBA").save(folder / "alpha.png")
    palette = photo.convert("P", palette=Image.Palette.ADAPTIVE)
    palette.info["transparency"] = 0
    palette.save(folder / "palette.png", transparency=0)
    photo.convert("L").save(folder / "grey.png")
    photo.convert("CMYK").save(folder / "print.jpg")
    frames = [photo, photo.rotate(180)]
    frames[0].save(folder / "moving.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° to display: the picture comes out 80 wide and 120 high
    photo.save(folder / "rotated.jpg", exif=exif.tobytes())
    sizes = {name: [120, 80] for name in ("deep.png", "alpha.png", "palette.png", "grey.png", "print.jpg", "moving.gif")}
    sizes["rotated.jpg"] = [80, 120]
    return {name: (folder / name, size) for name, size in sizes.items()}


def test_odd_but_valid_pictures_are_normalised_and_accepted(client, tmp_path):
    for name, (path, size) in odd_but_valid_files(tmp_path).items():
        _reconstruction, _plot, summary = client.predict(handle_file(str(path)), api_name="/encode")
        assert summary["image_size"] == size, name
        assert summary["latent_shape"] == [4, size[1] // 8, size[0] // 8], name


@pytest.mark.parametrize("api_name, arguments, message", [
    ("/sample", (PHOTO, 4, 1e6, 0), "maximum|σ-scale"),
    ("/sample", (PHOTO, 4, 1.0, 2**40), "maximum|Seed"),
    ("/traverse", (PHOTO, 9, -3, 3, 5, "spread", ""), "greater than maximum value 3|Channel must be a whole number from 0 to 3"),
    ("/traverse", (PHOTO, 0, -3, 3, 5, "furlongs", ""), "furlongs|Unit|choices"),
    ("/arithmetic", (PHOTO, PHOTO, PHOTO, 99), "maximum|Strength"),
    ("/digits_prior", (1e9, 0), "maximum|samples"),
    ("/digits_draw", (None, None, 8, 99.0, 0), "maximum|σ"),
    ("/generate", ("a red circle", "", "DDIMScheduler", 10**6, 5.0, 0), "maximum|Steps"),
    ("/generate", ("a red circle", "", "DDIMScheduler", 4, 1e9, 0), "maximum|Guidance"),
])
def test_hostile_numbers_are_refused_and_the_server_goes_on(client, api_name, arguments, message):
    values = [handle_file(a) if isinstance(a, str) and a.endswith(".jpg") else a for a in arguments]
    with pytest.raises(Exception, match=message):
        client.predict(*values, api_name=api_name)
    assert client.predict(handle_file(PHOTO), api_name="/channels")[-1]["channels"]


def test_a_ten_thousand_character_prompt_is_cut_with_a_notice(client):
    _picture, summary = client.predict("a red circle " * 770, "", "DDIMScheduler", 2, 5.0, 0, api_name="/generate")
    assert "cut to the model's limit of 77 tokens" in " ".join(summary["notes"])
