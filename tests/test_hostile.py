"""Hostile files and requests sent straight to the public API: each gets a clear sentence,
nothing outside the upload folders is served, and the next good request still works."""

import io

import httpx
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
