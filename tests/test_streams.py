"""Every multi-picture view streams: it yields the pictures done so far, a growing list, before
its result, and the result begins with the pictures of the last list."""

from concurrent.futures import ThreadPoolExecutor
import threading

import numpy as np
import pytest
import torch

from latent_lab import vae as vae_ops
from latent_lab.photos import compare, interpolate, sample, traverse
from tests.conftest import SOURCE, make_tiny_vae, photo_like, pixels


def pictures_of(item):
    """The pictures of a streamed list: plain pictures, or (strip, caption) rows."""
    return [entry[0] if isinstance(entry, tuple) else entry for entry in item]


def check_stream(stream, final_pictures, expected_partials):
    items = list(stream)
    partials, result = items[:-1], items[-1]
    assert len(partials) == expected_partials
    sizes = [len(p) for p in partials]
    assert sizes[0] >= 1 and sizes == sorted(set(sizes))  # something at once, then more each time
    last = pictures_of(partials[-1])
    final = pictures_of(final_pictures(result))
    assert len(last) <= len(final) and all(np.array_equal(pixels(a), pixels(b)) for a, b in zip(last, final))
    return result


@pytest.fixture
def one_per_batch(monkeypatch):
    """Decode one picture per batch, so that even the tiny test pictures stream one by one."""
    monkeypatch.setattr(vae_ops, "DECODE_PIXELS", 1)


def test_sample_and_traverse_stream_one_picture_per_batch(tiny_vae, photo_file, one_per_batch):
    stream = sample.sample_stream(tiny_vae, SOURCE, photo_file, 4, 1.0, 0)
    assert len(check_stream(stream, lambda r: r.samples, 4).samples) == 4
    stream = traverse.traverse_stream(tiny_vae, SOURCE, photo_file, 1, -2, 2, 5, "spread")
    result = check_stream(stream, lambda r: r.frames, 5)
    assert len(result.frames) == 5 and result.summary["offsets"] == [-2.0, -1.0, 0.0, 1.0, 2.0]


def test_interpolate_streams_from_the_first_reconstruction(tiny_vae, two_files, one_per_batch):
    stream = interpolate.interpolate_stream(tiny_vae, SOURCE, *two_files, 5, "slerp")
    result = check_stream(stream, lambda r: r.frames, 4)  # A's reconstruction, then each middle frame
    assert len(result.frames) == 5  # B's reconstruction arrives with the result


def test_three_ways_streams_the_crossfade_first(tiny_vae, two_files):
    items = list(interpolate.three_ways_stream(tiny_vae, SOURCE, *two_files, 4))
    assert [[caption.split(":")[0] for _, caption in item] for item in items[:-1]] == [
        ["crossfade"], ["lerp", "crossfade"], ["lerp", "slerp", "crossfade"]]
    check_stream(iter(items), lambda r: r.rows, 3)


def test_compare_streams_one_row_per_model(tiny_vae, two_files):
    named = [("vae", tiny_vae), ("other", make_tiny_vae(seed=1))]
    result = check_stream(compare.compare_stream(named, *two_files, steps=3, seed=0), lambda r: r.rows, 2)
    assert [m["model"] for m in result.summary["models"]] == ["vae", "other"]


def test_a_worker_stream_beats_while_it_waits_so_it_can_be_closed():
    import threading
    from latent_lab.streams import in_worker
    release, finished = threading.Event(), threading.Event()

    def work(emit, stopped):
        emit("first")
        release.wait()  # a long step: nothing to emit
        if not stopped.is_set():
            emit("never seen")
        finished.set()

    stream = in_worker(work, heartbeat=0.01)
    assert next(stream) == "first" and next(stream) is None  # a heartbeat while the work waits
    stream.close()  # the caller left, at the heartbeat
    release.set()
    assert finished.wait(10)  # the worker saw `stopped` and ended



def test_every_request_runs_its_models_on_a_model_thread(tmp_path):
    """OpenMP keeps a team of threads for each thread that ran torch's parallel work, and slows
    them all once they outnumber the cores (benchmarks/threads.py). Requests arrive on many
    server threads, here each on a new one: every model they run (the VAE, the UNet and text
    encoder, the digits models and classifier, each through its modules' forward calls) runs on a model thread."""
    from ui import encode, generate, sample
    from ui.digits import prior
    photo = str(tmp_path / "new.png")  # a picture no other test sent: no answer or posterior kept for it
    photo_like(seed=7919).save(photo)
    requests = [lambda: encode.on_encode(photo), lambda: list(sample.on_sample(photo, 2, 1.0, 0)),
                lambda: list(generate.on_generate("a red circle", "", "DDIMScheduler", 3, 5.0, 7919)),
                lambda: prior.on_prior(8, 7919)]
    ran_on = []
    hook = torch.nn.modules.module.register_module_forward_pre_hook(
        lambda module, args: ran_on.append((type(module).__name__, threading.current_thread().name)))
    try:
        for request in requests:
            thread = threading.Thread(target=request, name="request")
            thread.start()
            thread.join(300)
    finally:
        hook.remove()
    models = {name for name, _ in ran_on}
    assert {"Encoder", "Decoder", "UNet2DConditionModel", "CLIPTextModel", "DigitClassifier"} <= models
    assert {thread for _, thread in ran_on} == {"model"}


def test_a_view_makes_its_next_item_while_its_caller_handles_this_one():
    """The model decodes the next pictures while the server writes and sends these."""
    from latent_lab.streams import on_model_thread
    second_began, steps = threading.Event(), []

    @on_model_thread
    def view():
        steps.append(threading.current_thread().name)
        yield "first"
        second_began.set()
        steps.append(threading.current_thread().name)
        yield "second"

    stream = view()
    assert next(stream) == "first"
    assert second_began.wait(30)  # before the caller asked for it
    assert list(stream) == ["second"] and steps == ["model", "model"]


def test_a_closed_view_runs_no_step_past_the_one_begun_and_is_closed_on_a_model_thread():
    from latent_lab.streams import on_model_thread
    ran, closed_on = [], []

    @on_model_thread
    def view():
        try:
            for index in range(10):
                ran.append(index)
                yield index
        finally:
            closed_on.append(threading.current_thread().name)

    stream = view()
    assert next(stream) == 0
    stream.close()  # the caller left while step 1 may have begun
    assert ran in ([0], [0, 1]) and closed_on == ["model"]


def test_model_threads_are_as_many_as_the_cores_give_torch_threads(monkeypatch):
    import app
    for cores, threads, concurrency, expected in ((2, 2, 2, 1), (2, 1, 2, 2), (8, 2, 4, 4), (8, 2, 8, 4), (8, 8, 4, 1)):
        monkeypatch.setattr(app.os, "sched_getaffinity", lambda _: set(range(cores)), raising=False)
        monkeypatch.setattr(app.torch, "get_num_threads", lambda: threads)
        assert app.model_threads(concurrency) == expected


def test_two_model_threads_run_two_calls_at_once(monkeypatch):
    """With two model threads, two requests' calls run side by side (each waits here for the other)."""
    from latent_lab import streams
    monkeypatch.setattr(streams._model_threads, "count", 2)
    both = threading.Barrier(2, timeout=30)
    waiting = streams.on_model_thread(lambda: (both.wait(), threading.current_thread())[1])
    with ThreadPoolExecutor(2) as pool:
        threads = list(pool.map(lambda _: waiting(), range(2)))
    assert len(set(threads)) == 2 and all(thread in streams._model_threads.threads for thread in threads)
