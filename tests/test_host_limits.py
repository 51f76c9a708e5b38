"""The host's limits, through the public API of the app this test session serves (it runs in this
process, so a test can also count what the server does): every answer is its own, one limit
bounds all model work, what an outsider sends costs memory in proportion to what is used, echoes
are cut short, failures are told in our sentences, and a request whose client has gone stops."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial, wraps
import inspect
import io
import json
import os
import threading
import time
import tracemalloc
import uuid

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw

import app
from latent_lab import lessons, streams
from latent_lab.diffusion import generate
from latent_lab.config import EXAMPLES
from tests.conftest import small_copies
from tests.test_attacks import INTERNALS, call_raw, upload
from tests.test_imaging import deep_png
from ui import common, errors, widgets

PHOTO, OTHER = str(EXAMPLES / "coffee.jpg"), str(EXAMPLES / "chelsea.jpg")
DEADLINE = 300  # seconds: only a hang reaches it


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def pixels(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def wait_until(condition, what):
    """Poll `condition` until it holds; a hang fails the test with `what`."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


# 1. Answers are their own -------------------------------------------------------------------------

def test_two_latent_lists_that_differ_only_in_their_last_vector_get_their_own_answers(client):
    """The answer cache once keyed text by its first 10,000 characters: a list ending in [-2]*16
    came back with the labels and pictures of the same list ending in [+2]*16."""
    rng = np.random.default_rng(0)
    prefix = np.round(rng.uniform(-1, 1, (160, 16)), 3).tolist()  # 160 vectors: about 14,000 characters
    texts = {end: json.dumps(prefix + [[end] * 16]) for end in (2.0, -2.0)}
    assert len(os.path.commonprefix(list(texts.values()))) > 10_000
    answers = {end: client.predict("digits-vae-16", text, api_name="/digits_decode") for end, text in texts.items()}
    alone = {end: client.predict("digits-vae-16", json.dumps([[end] * 16]), api_name="/digits_decode") for end in texts}
    for end, (gallery, summary) in answers.items():
        (alone_gallery, alone_summary) = alone[end]
        assert len(gallery) == 161 and summary["labels"][-1] == alone_summary["labels"][0], (end, summary["labels"][-1])
        assert np.array_equal(pixels(gallery[-1]["image"]), pixels(alone_gallery[0]["image"]))
    (plus, plus_summary), (minus, minus_summary) = answers[2.0], answers[-2.0]
    assert plus_summary["labels"][:-1] == minus_summary["labels"][:-1]  # the same 160 vectors, the same digits
    assert plus_summary["labels"][-1] != minus_summary["labels"][-1]  # measured: "5" and "1"
    assert not np.array_equal(pixels(plus[-1]["image"]), pixels(minus[-1]["image"]))


# 2. One limit for all model work ------------------------------------------------------------------

LESSON_EVENTS = {"save_lesson", "open_lesson"}  # partial handlers: see the test below


def runs_our_handler(fn):
    """True when `fn`, or what it wraps (functools.partial, functools.wraps), is one of our handlers,
    which errors.friendly marks with `model_work`."""
    while fn is not None:
        if getattr(fn, "model_work", False):
            return True
        fn = fn.func if isinstance(fn, partial) else getattr(fn, "__wrapped__", None)
    return False


def public_events_of_ours(demo):
    return {fn.api_name: fn for fn in demo.fns.values() if fn.api_visibility == "public" and runs_our_handler(fn.fn)}


def test_every_public_endpoint_with_model_work_is_in_the_one_concurrency_group(served_app):
    ours = public_events_of_ours(served_app)
    assert {"encode", "sample", "three_ways", "compare", "traverse", "generate", "latent_walk", "digits_decode",
            "digits_draw"} <= set(ours)
    apart = sorted(name for name, fn in ours.items() if fn.concurrency_id != app.MODEL_WORK)
    assert apart == []
    group = served_app._queue.event_queue_per_concurrency_id[app.MODEL_WORK]
    assert group.concurrency_limit == common.settings.concurrency == 2  # LATENT_LAB_CONCURRENCY's default


def test_the_lesson_endpoints_are_in_the_one_concurrency_group_too(served_app):
    ours = public_events_of_ours(served_app)
    assert {name: ours[name].concurrency_id for name in LESSON_EVENTS} == dict.fromkeys(LESSON_EVENTS, app.MODEL_WORK)


class Gate:
    """Wraps handlers: counts those running at once (and the most ever), and holds each one at its
    start until `opened` is set, so every request sent is either held here or waiting in the queue."""

    def __init__(self):
        self.lock, self.opened = threading.Lock(), threading.Event()
        self.running = self.most = self.entered = 0

    def wrap(self, handler):
        if inspect.iscoroutinefunction(handler):  # a public endpoint of a streaming view
            @wraps(handler)
            async def held_answer(*args, **kwargs):
                with self.counted():
                    await asyncio.to_thread(self.opened.wait, DEADLINE)
                    return await handler(*args, **kwargs)
            return held_answer

        if inspect.isgeneratorfunction(handler):
            @wraps(handler)
            def held_stream(*args, **kwargs):
                with self.counted():
                    self.opened.wait(DEADLINE)
                    yield from handler(*args, **kwargs)
            return held_stream

        @wraps(handler)
        def held(*args, **kwargs):
            with self.counted():
                self.opened.wait(DEADLINE)
                return handler(*args, **kwargs)
        return held

    @contextmanager
    def counted(self):
        with self.lock:
            self.running, self.entered = self.running + 1, self.entered + 1
            self.most = max(self.most, self.running)
        try:
            yield
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture(scope="module")
def small_pictures(tmp_path_factory):
    return small_copies(tmp_path_factory.mktemp("small"), ("coffee.jpg", "chelsea.jpg"), 96)


@pytest.mark.slow
def test_at_most_the_limit_computes_at_once_whatever_the_endpoints(served_app, app_url, small_pictures, monkeypatch):
    """Eight requests to eight endpoints at once: while the first ones are held inside their
    handlers, the rest wait in the queue, so exactly `concurrency` run; none is timed."""
    a, b = (handle_file(path) for path in small_pictures)
    requests = [("/encode", (a,)), ("/sample", (a, 2, 1.0, 401)), ("/three_ways", (a, b, 3)),
                ("/compare", (a, b, 3, 402)), ("/traverse", (a, 1, -2, 2, 3, "spread", "")),
                ("/channels", (b,)), ("/interpolate", (a, b, 3, "lerp")), ("/digits_prior", (3, 403))]
    gate, limit = Gate(), common.settings.concurrency
    for fn in served_app.fns.values():
        if fn.concurrency_id == app.MODEL_WORK:
            monkeypatch.setattr(fn, "fn", gate.wrap(fn.fn))
    queues = served_app._queue.event_queue_per_concurrency_id.values()

    def waiting():
        return sum(len(queue.queue) for queue in queues)

    clients = [Client(app_url, verbose=False) for _ in requests]
    try:
        jobs = [c.submit(*arguments, api_name=name) for c, (name, arguments) in zip(clients, requests)]
        wait_until(lambda: gate.running >= limit and gate.running + waiting() == len(jobs),
                   "the requests never all reached the server")
        held = {"running": gate.running, "waiting": waiting()}
    finally:
        gate.opened.set()
    summaries = [job.result(timeout=DEADLINE)[-1] for job in jobs]
    assert held == {"running": limit, "waiting": len(requests) - limit}
    assert gate.most == limit and gate.entered == len(requests)
    assert len(summaries) == len(requests) and summaries[1]["n_samples"] == 2  # every one answered


# 3. Memory for what an outsider sends -------------------------------------------------------------

def test_a_deep_colour_picture_of_64_megapixels_is_accepted_at_the_working_size(client, tmp_path):
    path = tmp_path / "deep.png"
    path.write_bytes(deep_png(8000, 8000))  # 16-bit grey, dark on the left to light on the right
    assert path.stat().st_size < 300_000
    reconstruction, _plot, summary = client.predict(handle_file(str(path)), api_name="/encode")
    assert summary["image_size"] == [512, 512] and summary["latent_shape"] == [4, 64, 64]
    grey = pixels(reconstruction).mean(axis=(0, 2))  # by column
    assert grey[:64].mean() < 40 and grey[-64:].mean() > 215  # the ramp came through, not clipped


def component_ids(app_url, block_name):
    config = httpx.get(f"{app_url.rstrip('/')}/config", timeout=60).json()
    return [component["id"] for component in config["components"] if component["type"] == block_name]


def send_blob(app_url, component_id, kind, key, drawing, index="null"):
    """A Sketchpad's blob sent as the browser sends it: a form to the component server."""
    form = {"type": kind, "index": str(index), "id": key, "component_id": str(component_id),
            "fn_name": "accept_blobs", "session_hash": uuid.uuid4().hex}
    return httpx.post(f"{app_url.rstrip('/')}/gradio_api/component_server/", data=form,
                      files={"file": ("blob", drawing, "image/png")}, timeout=60)


@pytest.fixture
def sketchpad(served_app, app_url, monkeypatch):
    """(the digits Sketchpad's id as the page knows it, the Sketchpad in this process, emptied)."""
    ids = [i for i in component_ids(app_url, "imageeditor") if isinstance(served_app.blocks[i], widgets.Sketchpad)]
    assert ids, "no Sketchpad on the page"
    pad = served_app.blocks[ids[0]]
    monkeypatch.setattr(pad, "blob_storage", {})
    return ids[0], pad


def test_a_layer_blob_with_a_huge_index_allocates_nothing(app_url, sketchpad):
    """Gradio's own Sketchpad made a list as long as the index a caller sent (+152 MB for 10,000,000)."""
    component_id, pad = sketchpad
    tracemalloc.start()
    try:
        response = send_blob(app_url, component_id, "layer", "drawing-1", b"\x00", index=10_000_000)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200 and pad.blob_storage == {}
    assert peak < 16 * 2**20, peak  # the whole server meanwhile; a 10-million-entry list alone is 80 MB


def test_a_hundred_drawings_keep_only_the_newest_and_the_page_reads_its_drawing(app_url, sketchpad):
    component_id, pad = sketchpad
    for k in range(100):
        assert send_blob(app_url, component_id, "composite", f"drawing-{k}", b"%03d" % k).status_code == 200
    kept, largest = widgets.Sketchpad.KEPT_DRAWINGS, widgets.Sketchpad.MAX_DRAWING_BYTES
    assert list(pad.blob_storage) == [f"drawing-{k}" for k in range(100 - kept, 100)]
    for k in range(8):
        assert send_blob(app_url, component_id, "composite", f"large-{k}", bytes(largest)).status_code == 200
    assert send_blob(app_url, component_id, "composite", "too-large", bytes(largest + 1)).status_code == 200
    assert "too-large" not in pad.blob_storage  # not kept: the event reading it will ask for a drawing
    fit = widgets.Sketchpad.KEPT_BYTES // largest
    assert list(pad.blob_storage) == [f"large-{k}" for k in range(8 - fit, 8)]  # at most KEPT_BYTES in all
    # A real drawing, then the event that reads it, as the page sends them.
    digit = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(digit).line([(140, 50), (140, 230)], fill="black", width=24)  # a 1
    buffer = io.BytesIO()
    digit.save(buffer, format="PNG")
    assert send_blob(app_url, component_id, "composite", "my-digit", buffer.getvalue()).status_code == 200
    drawing = {"id": "my-digit", "background": None, "layers": [], "composite": None}
    events, error = call_raw(app_url, "digits_draw", [drawing, None, 4, 1.0, 0])
    assert error is None, events[:300]
    summary = json.loads(events.split("event: complete", 1)[1].split("data:", 1)[1].strip())[-1]
    assert summary["label"] == 1 and summary["n_samples"] == 4  # the drawing sent ahead was the one read
    assert sum(map(len, pad.blob_storage.values())) <= widgets.Sketchpad.KEPT_BYTES


# 4. Echoes are cut short --------------------------------------------------------------------------

def as_upload(app_url, path):
    return {"path": upload(app_url, path), "meta": {"_type": "gradio.FileData"}}


SENT = "Q"  # a letter no scheduler, model, method or message of ours holds: each one in an answer is an echo


def assert_a_short_sentence(events, error, expected):
    assert error and expected in error, events[:300]
    assert events.count(SENT) <= errors.ECHO_LIMIT, events.count(SENT)  # of a million sent
    assert len(events) < 1000 and "Traceback" not in events, (len(events), events[:300])
    assert not any(word in events for word in INTERNALS), events[:500]


@pytest.mark.parametrize("api_name, make_data, expected", [
    ("generate", lambda url, value: ["a red circle", "", value, 2, 5.0, 0], "Unknown scheduler"),
    ("interpolate", lambda url, value: [as_upload(url, PHOTO), as_upload(url, OTHER), 3, value], "not one of the choices"),
    ("digits_encode", lambda url, value: [as_upload(url, PHOTO), value], "not one of the choices"),
])
def test_a_megabyte_choice_comes_back_cut_to_a_short_sentence(app_url, api_name, make_data, expected):
    events, error = call_raw(app_url, api_name, make_data(app_url, SENT * 1_000_000))
    assert_a_short_sentence(events, error, expected)


def test_a_lesson_whose_setting_name_is_five_megabytes_gets_a_short_sentence(app_url, tmp_path):
    lesson = tmp_path / "lesson.json"
    lesson.write_text(json.dumps({"format": lessons.LESSON_FORMAT, "version": lessons.LESSON_VERSION, "view": "sample",
                                  "settings": {SENT * 5_000_000: 1}, "pictures": {}}))
    events, error = call_raw(app_url, "open_lesson", [as_upload(app_url, lesson)])
    assert_a_short_sentence(events, error, "Setting names must be short text")


# 5. Failures are told in our sentences ------------------------------------------------------------

def test_a_text_to_image_failure_shows_our_sentence_and_logs_the_cause(app_url, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("shape mismatch in /srv/secret/unet.bin")

    monkeypatch.setattr(common.pipe().unet, "forward", broken)
    events, error = call_raw(app_url, "generate", ["a red circle on a blue background", "", "DDIMScheduler", 3, 5.0, 97])
    assert error == "The DDIMScheduler scheduler could not run 3 steps. Try more steps or another scheduler."
    assert "secret" not in events and "mismatch" not in events
    assert "shape mismatch in /srv/secret/unet.bin" in caplog.text  # the cause, for whoever runs the server


# 6. A request whose client has gone stops ---------------------------------------------------------

WALK_ENDS = ("a red circle on the left on a white background", "a blue square on the right on a yellow background")
STEPS = 10


@pytest.mark.slow
@pytest.mark.parametrize("api_name, arguments", [
    # 32 frames: batches of 1, 8, 8, 8, 6 and 1 frames, 10 steps each: 60 UNet calls.
    ("/latent_walk", (*WALK_ENDS, 0, 1, 32, "DDIMScheduler", STEPS, 5.0)),
    ("/generate", (WALK_ENDS[0], "", "DDIMScheduler", 60, 5.0, 7)),  # 60 UNet calls
])
def test_a_cancelled_request_stops_within_ten_steps_and_frees_the_pipeline(app_url, api_name, arguments):
    calls = []
    hook = common.pipe().unet.register_forward_hook(lambda module, args, output: calls.append(1))
    try:
        job = Client(app_url, verbose=False).submit(*arguments, api_name=api_name)
        wait_until(lambda: len(calls) >= STEPS + 2, "the request never started")  # the walk: in its 2nd batch
        with ThreadPoolExecutor(1) as pool:
            calls_at_cancel = len(calls)
            pool.submit(job.cancel).result(timeout=DEADLINE)
        wait_until(streams._model_threads.idle, "the work never ended")
        assert generate._run_lock.acquire(timeout=DEADLINE)
        generate._run_lock.release()
    finally:
        hook.remove()
    assert len(calls) - calls_at_cancel <= STEPS, (calls_at_cancel, len(calls))


@pytest.mark.slow
def test_an_api_walk_whose_caller_hangs_up_stops_within_two_batches(served_app, app_url):
    """A caller of /latent_walk whose connection closes, with no /cancel (a script killed, a laptop
    shut): Gradio marks the request gone, and the walk stops at its next batch; the batch begun
    before that one is seen through (at most 2 x 10 UNet calls after the hang-up)."""
    fn_index, = [index for index, fn in served_app.fns.items() if fn.api_name == "latent_walk"]
    base, session = f"{app_url.rstrip('/')}/gradio_api", uuid.uuid4().hex
    calls = []
    hook = common.pipe().unet.register_forward_hook(lambda module, args, output: calls.append(1))
    try:
        httpx.post(f"{base}/queue/join", timeout=60, json={
            "data": [*WALK_ENDS, 0, 1, 32, "DDIMScheduler", STEPS, 5.0], "fn_index": fn_index,
            "session_hash": session, "event_data": None, "trigger_id": None}).raise_for_status()
        with httpx.stream("GET", f"{base}/queue/data", params={"session_hash": session}, timeout=DEADLINE) as stream:
            messages = (json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:"))
            next(m for m in messages if m["msg"] == "process_starts")
            wait_until(lambda: len(calls) >= STEPS + 2, "the walk never reached its second batch")
            calls_at_hang_up = len(calls)
        wait_until(streams._model_threads.idle, "the walk never ended")
    finally:
        hook.remove()
    assert not generate._run_lock.locked()
    assert len(calls) - calls_at_hang_up <= 2 * STEPS, (calls_at_hang_up, len(calls))


@pytest.mark.slow
def test_the_pages_walk_stopped_by_its_client_ends_within_the_batch_it_is_on(served_app, app_url, monkeypatch):
    """The page streams the walk through a private event (by its index, as the browser does) and
    stops it with /cancel: Gradio closes the stream when the frame under way arrives, and the walk
    stops at its next denoising step: at most the rest of one batch (10 steps) after the cancel."""
    monkeypatch.setattr(errors, "STREAM_EVERY", 0.0)  # every frame goes: where the stream is closed is known
    fn_index, = [index for index, fn in served_app.fns.items()
                 if fn.api_visibility == "private" and getattr(fn.fn, "__name__", "") == "on_latent_walk"]
    base, session = f"{app_url.rstrip('/')}/gradio_api", uuid.uuid4().hex
    calls = []
    hook = common.pipe().unet.register_forward_hook(lambda module, args, output: calls.append(1))
    try:
        joined = httpx.post(f"{base}/queue/join", timeout=60, json={
            "data": [*WALK_ENDS, 0, 1, 32, "DDIMScheduler", STEPS, 5.0], "fn_index": fn_index,
            "session_hash": session, "event_data": None, "trigger_id": None})
        event_id = joined.json()["event_id"]
        with httpx.stream("GET", f"{base}/queue/data", params={"session_hash": session}, timeout=DEADLINE) as stream:
            messages = (json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:"))
            first = next(m for m in messages if m["msg"] == "process_generating")
            assert len(first["output"]["data"][0]) >= 1  # the first frame reached the page
            wait_until(lambda: len(calls) >= STEPS + 2, "the walk never reached its second batch")
            calls_at_cancel = len(calls)
            httpx.post(f"{base}/cancel", timeout=DEADLINE,
                       json={"session_hash": session, "fn_index": fn_index, "event_id": event_id})
        wait_until(streams._model_threads.idle, "the walk never ended")
    finally:
        hook.remove()
    assert not generate._run_lock.locked()
    assert calls_at_cancel < 60 and len(calls) - calls_at_cancel <= STEPS, (calls_at_cancel, len(calls))
