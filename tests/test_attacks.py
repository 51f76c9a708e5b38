"""Attacks through the public API, raw HTTP included, one case per hole: each gets one plain
sentence in bounded time and memory, and the server answers a normal request afterwards."""

from concurrent.futures import ThreadPoolExecutor
import json
import os
from pathlib import Path

import gradio as gr
import httpx
import psutil
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from latent_lab.config import EXAMPLES
from latent_lab.imaging import UNREADABLE

PHOTO = str(EXAMPLES / "chelsea.jpg")
INTERNALS = ("object at 0x", "/tmp", "Traceback", "Errno", "ImageFile", "site-packages")


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def call_raw(app_url, api_name, data, timeout=60):
    """POST data to /gradio_api/call/<api_name> as any HTTP client could, and read the answer:
    (the events' text, the error sentence or None)."""
    base = f"{app_url.rstrip('/')}/gradio_api/call/{api_name}"
    started = httpx.post(base, json={"data": data}, timeout=timeout)
    if started.status_code >= 400:
        return started.text, started.text
    events = httpx.get(f"{base}/{started.json()['event_id']}", timeout=timeout).text
    error = None
    if "event: error" in events:
        payload = events.split("event: error", 1)[1].split("data:", 1)[1].strip().splitlines()[0]
        error = json.loads(payload) if payload.startswith(("{", '"')) else payload
        error = error.get("error") if isinstance(error, dict) else error
    return events, error


def upload(app_url, path):
    """A file uploaded the way the browser does it: its path in the server's upload folder."""
    with open(path, "rb") as file:
        response = httpx.post(f"{app_url.rstrip('/')}/gradio_api/upload", files={"files": file}, timeout=60)
    return response.json()[0]


def still_serves(client):
    assert len(client.predict(handle_file(PHOTO), api_name="/channels")[-1]["channels"]) == 4


def growth_mb(before):
    return (psutil.Process().memory_info().rss - before) / 2**20


@pytest.mark.parametrize("api_name, extra", [("encode", []), ("channels", []), ("sample", [2, 1.0, 0]),
                                             ("interpolate", ["PHOTO", 3, "lerp"]), ("save_lesson", None)])
@pytest.mark.parametrize("meta", [None, {}])
def test_a_server_file_cannot_be_read_through_a_picture_input(app_url, client, api_name, extra, meta):
    secret = Path(PHOTO).resolve()  # a real picture on the server, never uploaded
    answers = []
    for path in (str(secret), str(secret.parent / ".." / secret.parent.name / secret.name), "/etc/passwd",
                 "/no/such/file.png", "/", "http://127.0.0.1:1/x.png"):
        file = {"path": path} if meta is None else {"path": path, "meta": meta}
        if api_name == "save_lesson":
            continue  # takes the open tab's inputs: checked below through /encode's component
        data = [file] + [file if e == "PHOTO" else e for e in extra]
        events, error = call_raw(app_url, api_name, data)
        assert error == UNREADABLE, (path, events[:300])
        assert "root:" not in events and str(secret.parent) not in events
        answers.append(error)
    assert len(set(map(str, answers))) <= 1  # the same sentence whether the path exists or not
    still_serves(client)


def test_a_pipe_does_not_hang_a_worker(app_url, client, tmp_path):
    outside = tmp_path / "pipe.png"
    os.mkfifo(outside)
    inside = Path(gr.utils.get_upload_folder()) / "attack-pipe.png"  # as if it had been put there
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.unlink(missing_ok=True)
    os.mkfifo(inside)
    try:
        for path in (outside, inside):  # no writer ever comes: a worker that opened it would wait forever
            with ThreadPoolExecutor(1) as pool:
                _events, error = pool.submit(call_raw, app_url, "encode", [{"path": str(path)}]).result(timeout=300)
            assert error and UNREADABLE in str(error)
    finally:
        inside.unlink(missing_ok=True)
    still_serves(client)


def test_fitting_b_to_a_is_bounded_by_a_size(app_url, client, tmp_path):
    wide, tall = tmp_path / "wide.png", tmp_path / "tall.png"
    Image.new("RGB", (4096, 16), "red").save(wide)
    Image.new("RGB", (16, 30000), "blue").save(tall)
    before = psutil.Process().memory_info().rss
    for api_name, arguments in (("/interpolate", (3, "lerp")), ("/three_ways", (3,))):
        try:
            client.predict(handle_file(str(wide)), handle_file(str(tall)), *arguments, api_name=api_name)
        except Exception as error:  # a refusal is fine too, as long as it is a sentence
            assert not any(word in str(error) for word in INTERNALS)
    assert growth_mb(before) < 400
    still_serves(client)


def test_a_huge_prompt_is_cut_before_the_tokenizer(client, monkeypatch):
    from latent_lab.diffusion.generate import MAX_PROMPT_CHARS
    from ui import common
    tokenizer, read = common.pipe().tokenizer, []
    tokenize = type(tokenizer).__call__

    def counting(self, text=None, *args, **kwargs):  # what the tokenizer is handed, in characters
        read.extend(len(t) for t in ([text] if isinstance(text, str) else text or []))
        return tokenize(self, text, *args, **kwargs)

    monkeypatch.setattr(type(tokenizer), "__call__", counting)
    _picture, summary = client.predict("a red circle " * 250_000, "", "DDIMScheduler", 2, 5.0, 0, api_name="/generate")
    assert any("3,250,000 characters long" in note for note in summary["notes"])
    assert read and max(read) == MAX_PROMPT_CHARS  # 3.25 million characters sent; the tokenizer saw 1,000


@pytest.mark.parametrize("name, content", [
    ("page.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 32 32\nshowpage\n"),
    ("icon.ico", None),
])
def test_only_the_formats_the_page_names_are_opened(client, tmp_path, name, content):
    path = tmp_path / name
    if content is None:
        Image.new("RGB", (32, 32), "green").save(path, format="ICO")
    else:
        path.write_bytes(content)
    with pytest.raises(Exception, match="PNG, JPEG, WebP, GIF, BMP or TIFF"):
        client.predict(handle_file(str(path)), api_name="/encode")
    still_serves(client)


@pytest.mark.parametrize("api_name, data", [
    ("encode", []), ("encode", [None]), ("encode", [{"path": None}]), ("encode", [{}]), ("encode", ["just text"]),
    ("sample", [None, 2, 1.0, 0]), ("interpolate", [None, None, 3, "lerp"]), ("generate", [None] * 6),
    ("arithmetic", [None, None, None, 1.0]),
])
def test_messages_name_no_internals(app_url, client, api_name, data):
    events, error = call_raw(app_url, api_name, data)
    assert error, events[:300]  # a sentence, not a bare "Error"
    assert not any(word in events for word in INTERNALS), events[:500]
    still_serves(client)


def test_a_lesson_file_from_outside_the_uploads_is_refused(app_url, client, tmp_path):
    lesson = tmp_path / "lesson.json"
    lesson.write_text('{"format": "latent-lab-lesson", "version": 1, "view": "encode", "settings": {}, "pictures": {}}')
    for file in ({"path": str(lesson)}, {"path": str(lesson), "meta": {"_type": "gradio.FileData"}}):
        events, error = call_raw(app_url, "open_lesson", [file])
        assert error and str(tmp_path) not in events and not any(word in events for word in INTERNALS), events[:300]
    uploaded = upload(app_url, lesson)
    _events, error = call_raw(app_url, "open_lesson", [{"path": uploaded, "meta": {"_type": "gradio.FileData"}}])
    assert error is None, _events[:300]
