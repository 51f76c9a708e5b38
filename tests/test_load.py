"""Many clients at once, a full queue, and a long run of mixed requests: everyone gets the
answer they would get alone, a busy app says so, and memory, file descriptors and temporary
files stay bounded. Traffic goes to the app on this machine only, in bounded loops."""

from concurrent.futures import ThreadPoolExecutor
import dataclasses
import gc
import json
import os
from pathlib import Path
import time

import httpx
import numpy as np
import psutil
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from gradio_client.utils import Status, StatusUpdate
from matplotlib.figure import Figure
from PIL import Image
import torch

from latent_lab.config import EXAMPLES
from tests.conftest import free_port, small_copies

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_files(tmp_path_factory):
    """Two small pictures, so that hundreds of requests stay quick."""
    return small_copies(tmp_path_factory.mktemp("small"), ("chelsea.jpg", "rocket.jpg"), 128)


def mixed_requests(files, count):
    """`count` requests cycling through every endpoint, with varied settings."""
    a, b = files
    kinds = [
        lambda k: ("/encode", (handle_file(a if k % 2 else b),)),
        lambda k: ("/sample", (handle_file(a), 1 + k % 4, 0.5 * (k % 5), k)),
        lambda k: ("/interpolate", (handle_file(a), handle_file(b), 2 + k % 4, ("lerp", "slerp")[k % 2])),
        lambda k: ("/channels", (handle_file(b),)),
        lambda k: ("/generate", (f"a red circle on a {('blue', 'green')[k % 2]} background", "",
                                 ("DDIMScheduler", "EulerDiscreteScheduler")[k % 2], 3, 5.0, k)),
    ]
    return [kinds[k % len(kinds)](k // len(kinds)) for k in range(count)]


def pictures_in(value):
    """Every picture file in an answer, as pixel arrays, in order."""
    if isinstance(value, (list, tuple)):
        return [p for item in value for p in pictures_in(item)]
    if isinstance(value, dict):
        return pictures_in(value.get("image")) if "image" in value else []
    if isinstance(value, str) and value.endswith((".png", ".gif")) and os.path.exists(value):
        return [np.asarray(Image.open(value).convert("RGB"), dtype=np.int16)]
    return []


def answer(client, request):
    api_name, arguments = request
    return summarised(client.predict(*arguments, api_name=api_name))


def summarised(result):
    """(the summary without its timing, the pictures) of one answer."""
    summary = {k: v for k, v in result[-1].items() if k != "seconds"}
    return summary, pictures_in(list(result[:-1]))


def close(a, b):
    """Equal, with floats equal to 1e-3 (threads may sum in another order)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return np.isclose(a, b, rtol=1e-3, atol=1e-3)
    return a == b


def same_answer(alone, together):
    """Equal summaries and pictures within float rounding (2 grey levels)."""
    (summary_a, pictures_a), (summary_b, pictures_b) = alone, together
    assert close(summary_a, summary_b), (summary_a, summary_b)
    assert len(pictures_a) == len(pictures_b)
    for a, b in zip(pictures_a, pictures_b):
        assert a.shape == b.shape and np.abs(a - b).max() <= 2


def test_eight_clients_at_once_get_the_answers_they_get_alone(app_url, small_files, capsys):
    requests = mixed_requests(small_files, 24)
    solo = Client(app_url, verbose=False)
    alone = [answer(solo, request) for request in requests]
    clients = [Client(app_url, verbose=False) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(answer, clients[k % 8], request) for k, request in enumerate(requests)]
        together = [future.result(timeout=300) for future in futures]
    for expected, got in zip(alone, together):
        same_answer(expected, got)
    with capsys.disabled():
        print(f"\n8 clients at once: {len(requests)} mixed requests, every answer equal to the one made alone")


@pytest.fixture
def another_app(monkeypatch):
    """Starts another instance of the app with some settings changed; closes it after the test."""
    import app
    from ui import common

    started = []

    def start(**changes):
        monkeypatch.setattr(common, "settings", dataclasses.replace(common.settings, **changes))
        started.append(app.serve(prevent_thread_lock=True, server_port=free_port(), quiet=True))
        return started[-1].local_url
    yield start
    for demo in started:
        demo.close()


def test_a_full_queue_says_so_and_the_app_goes_on(another_app):
    url = another_app(queue_size=1, concurrency=1)  # one request at work, one waiting
    photo = handle_file(str(EXAMPLES / "chelsea.jpg"))
    clients = [Client(url, verbose=False) for _ in range(8)]
    jobs = [c.submit(photo, 16, 1.0, k, api_name="/sample") for k, c in enumerate(clients)]
    outcomes = []
    for job in jobs:
        try:
            outcomes.append(job.result(timeout=300)[-1]["n_samples"])
        except Exception as error:  # noqa: BLE001 - the client's own error type varies with the stage
            outcomes.append(str(error))
    busy = [o for o in outcomes if isinstance(o, str)]
    assert busy and all("Queue is full" in message for message in busy), outcomes
    assert 16 in outcomes  # the requests that got a place were answered
    assert clients[0].predict(handle_file(str(EXAMPLES / "coffee.jpg")), api_name="/channels")[-1]["channels"]


def call(url, api_name, data):
    """One raw API call; returns the event's output list (server-side file paths included)."""
    base = f"{url.rstrip('/')}/gradio_api/call/{api_name}"
    event_id = httpx.post(base, json={"data": data}).json()["event_id"]
    lines = httpx.get(f"{base}/{event_id}", timeout=120).text.splitlines()
    assert "event: complete" in lines, lines[:4]
    return json.loads(lines[lines.index("event: complete") + 1].removeprefix("data: "))


def test_temporary_files_are_deleted(another_app, small_files):
    url = another_app(cache_seconds=2)  # uploads and results deleted after 2 s
    with open(small_files[0], "rb") as picture:
        upload = httpx.post(f"{url}gradio_api/upload", files={"files": picture}).json()[0]
    output = call(url, "encode", [{"path": upload, "meta": {"_type": "gradio.FileData"}}])
    created = [Path(upload), Path(output[0]["path"])]
    assert all(path.exists() for path in created)
    deadline = time.time() + 30
    while any(path.exists() for path in created) and time.time() < deadline:
        time.sleep(1)
    assert not any(path.exists() for path in created)
    assert httpx.get(output[0]["url"]).status_code >= 400  # and no longer served


OBJECT_SLACK = 100


def live_objects():
    """How many tensors, pictures and figures the server's process holds now (after a collection)."""
    gc.collect()
    kinds = {"tensors": torch.Tensor, "pictures": Image.Image, "figures": Figure}
    objects = gc.get_objects()
    return {name: sum(isinstance(o, kind) for o in objects) for name, kind in kinds.items()}


def test_three_hundred_requests_leave_memory_and_descriptors_flat(app_url, small_files, capsys):
    process = psutil.Process()
    client = Client(app_url, verbose=False)
    requests = mixed_requests(small_files, 390)
    # Warm up: first-time allocations, and every bounded cache (posteriors, answers) filled.
    for request in requests[:90]:
        answer(client, request)
    rss_before, fds_before, objects_before = process.memory_info().rss, process.num_fds(), live_objects()
    errors = 0
    for request in requests[90:]:
        try:
            answer(client, request)
        except AppError:
            errors += 1
    rss_after, fds_after, objects_after = process.memory_info().rss, process.num_fds(), live_objects()
    with capsys.disabled():  # the figures belong in every run's log
        print(f"\n300 mixed requests: {errors} errors, resident memory {rss_before / 2**20:.0f} -> "
              f"{rss_after / 2**20:.0f} MiB, file descriptors {fds_before} -> {fds_after}, "
              f"objects {objects_before} -> {objects_after}")
    assert errors == 0
    # A request that kept what it made would add 300 of something: tensors, pictures or figures
    # (the bounded caches hold a varying few of each, as their entries come and go).
    for kind, count in objects_after.items():
        assert count <= objects_before[kind] + OBJECT_SLACK, (kind, objects_before, objects_after)
    # The resident size also moves with the allocator's arenas (+2.8% to +6% seen over these 300
    # requests, depending on the tests run before): a bound that only a real leak crosses.
    assert rss_after < 1.25 * rss_before
    assert fds_after <= fds_before + 4  # a few pooled connections may open or close


def test_thirty_clients_pressing_the_same_example_get_the_same_complete_answer(app_url):
    """Identical requests make identical pictures at the same moment: each answer must still be
    complete (Gradio once served a picture that another request was rewriting)."""
    request = ("/sample", (handle_file(str(EXAMPLES / "chelsea.jpg")), 8, 1.0, 0))
    alone = answer(Client(app_url, verbose=False), request)
    clients = [Client(app_url, verbose=False) for _ in range(30)]
    with ThreadPoolExecutor(30) as pool:
        together = list(pool.map(lambda client: answer(client, request), clients, timeout=600))
    for got in together:
        assert len(got[1]) == 8
        same_answer(alone, got)


def queue_places(job):
    """The places in the queue the server told a finished job while it waited (0: next)."""
    places = []
    while not job.communicator.updates.empty():
        update = job.communicator.updates.get_nowait()
        if isinstance(update, StatusUpdate) and update.code == Status.IN_QUEUE and update.rank is not None:
            places.append(update.rank)
    return places


def test_thirty_different_requests_all_complete_and_the_waiting_see_their_place(another_app, small_files, tmp_path):
    """Requests wait in one line: LATENT_LAB_CONCURRENCY bounds all model work together."""
    url = another_app(concurrency=1, max_side=1024)  # one at work: everyone else waits in line
    requests = [("/sample", (handle_file(small_files[k % 2]), 1 + k % 4, 0.5 * (k % 5), k)) for k in range(29)]
    alone = [answer(Client(url, verbose=False), request) for request in requests]
    clients = [Client(url, verbose=False) for _ in range(30)]
    # First a long request (16 samples at 1024 px), so that the others line up behind it.
    big = tmp_path / "big.png"
    Image.open(EXAMPLES / "astronaut.jpg").resize((1024, 1024)).save(big)
    slow = clients[0].submit(handle_file(str(big)), 16, 1.0, 99, api_name="/sample")
    deadline = time.time() + 120
    while slow.status().code not in (Status.PROCESSING, Status.ITERATING, Status.FINISHED) and time.time() < deadline:
        time.sleep(0.01)
    jobs = [client.submit(*arguments, api_name=name) for client, (name, arguments) in zip(clients[1:], requests)]
    together = [summarised(job.result(timeout=600)) for job in jobs]
    assert len(summarised(slow.result(timeout=600))[1]) == 16
    for expected, got in zip(alone, together):
        same_answer(expected, got)  # every answer complete, and the one it gets alone
    places = [queue_places(job) for job in jobs]
    assert all(places), places  # each waiting client was told its place ...
    assert all(p == sorted(p, reverse=True) and p[-1] == 0 for p in places)  # ... counting down to next
    assert max(max(p) for p in places) >= 10  # ... from far back in the line
