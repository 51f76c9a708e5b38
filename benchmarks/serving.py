"""The app as a server: `python app.py` launched, its cold start, resident memory over many requests,
and a class pressing /sample together."""

import contextlib
import gc
import operator
import os
from pathlib import Path
import socket
import subprocess
import sys
import tempfile
import time

import psutil

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port, server, timeout):
    started = time.perf_counter()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"app.py exited with status {server.returncode} before it served") from None
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"app.py did not open port {port} within {timeout} s") from None
            time.sleep(0.05)


def import_seconds():
    """Seconds a fresh `python` takes to import what any app of this kind needs before it can
    answer /encode (gradio, torch, diffusers' AutoencoderKL): the floor under the cold start."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import gradio; from diffusers import AutoencoderKL"], check=True,
                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


@contextlib.contextmanager
def launched(env, timeout=300):
    """`python app.py` started with `env` on a free port; yields (its address, seconds from the
    launch until its port opened, the launch's perf_counter time, its process). Its log is printed
    when anything fails; it is stopped at the end."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env | {"GRADIO_SERVER_PORT": str(port)},
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for_port(port, server, timeout)
            yield f"http://127.0.0.1:{port}/", time.perf_counter() - started, started, server
        except Exception:
            log.seek(0)
            print(log.read().decode(errors="replace")[-2000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def cold_start(picture_file, timeout=300):
    """Seconds from launching `python app.py` until its port is open, and until it answered its
    first /encode of `picture_file` (model loading included), with LATENT_LAB_THREADS unset."""
    from gradio_client import Client, handle_file

    env = {name: value for name, value in os.environ.items() if name != "LATENT_LAB_THREADS"}
    with launched(env, timeout) as (url, listening, started, _):
        client = Client(url, verbose=False)
        client.predict(handle_file(str(picture_file)), api_name="/encode")
        return {"listening_seconds": listening, "first_encode_seconds": time.perf_counter() - started}


def memory_growth(picture_files, requests=200):
    """Resident memory (MiB) of an in-process server before and after `requests` mixed requests
    (encode, sample, interpolate, channels in turn, over `picture_files`), and halfway through.
    "Before" is taken after each kind of request on each picture, so that loading the model and
    filling caches do not count as growth."""
    import app
    from gradio_client import Client, handle_file

    demo = app.serve(prevent_thread_lock=True, server_port=free_port(), quiet=True)
    try:
        client = Client(demo.local_url, verbose=False)
        files = [handle_file(str(path)) for path in picture_files]

        def request(index):  # each kind of request in turn; the next picture after every round
            kind, round_ = index % 4, index // 4
            picture, other = files[round_ % len(files)], files[(round_ + 1) % len(files)]
            if kind == 0:
                client.predict(picture, api_name="/encode")
            elif kind == 1:
                client.predict(picture, 4, 1.0, index, api_name="/sample")
            elif kind == 2:
                client.predict(picture, other, 4, "slerp" if index % 8 == 2 else "lerp", api_name="/interpolate")
            else:
                client.predict(picture, api_name="/channels")

        for index in range(4 * len(files)):  # every kind of request on every picture
            request(index)
        gc.collect()
        before = psutil.Process().memory_info().rss / 2**20
        started = time.perf_counter()
        for index in range(requests):
            request(index)
            if index == max(requests // 2, 1) - 1:
                middle = psutil.Process().memory_info().rss / 2**20
        seconds = time.perf_counter() - started
        gc.collect()
        after = psutil.Process().memory_info().rss / 2**20
    finally:
        demo.close()
    return {"requests": requests, "rss_before_mib": before, "rss_halfway_mib": middle, "rss_after_mib": after,
            "growth_pct": 100 * (after - before) / before, "seconds_per_request": seconds / requests}


def press_together(everyone, picture, seeds):
    """Every client in `everyone` presses /sample (8 samples) on `picture` at once, each with its
    seed: (seconds until the last answer, how many answers came whole, the furthest place in the
    queue a waiting client was told)."""
    from gradio_client.utils import Status, StatusUpdate

    def furthest_place(job):
        places = [0]
        while not job.communicator.updates.empty():
            update = job.communicator.updates.get_nowait()
            if isinstance(update, StatusUpdate) and update.code == Status.IN_QUEUE and update.rank is not None:
                places.append(update.rank)
        return max(places)

    started = time.perf_counter()
    jobs = [client.submit(picture, 8, 1.0, seed, api_name="/sample") for client, seed in zip(everyone, seeds)]
    answers = [job.result(timeout=900) for job in jobs]
    seconds = time.perf_counter() - started
    whole = sum(len(answer[0]) == 8 and all(os.path.getsize(item["image"]) > 0 for item in answer[0])
                for answer in answers)
    return seconds, whole, max(furthest_place(job) for job in jobs)


def a_class_at_once(picture_file, clients=30):
    """A class on one in-process server, pressing /sample (8 samples, the app's defaults) on one
    picture: seconds of one request alone; of `clients` identical requests at once (computed
    once, every answer checked whole); and of `clients` different ones at once (other seeds),
    with the furthest place in the queue a waiting client was told."""
    import app
    from gradio_client import Client, handle_file

    demo = app.serve(prevent_thread_lock=True, server_port=free_port(), quiet=True)
    try:
        everyone = [Client(demo.local_url, verbose=False) for _ in range(clients)]
        picture = handle_file(str(picture_file))
        everyone[0].predict(picture, 8, 1.0, 0, api_name="/sample")  # warm: the picture's posterior is cached
        started = time.perf_counter()
        everyone[0].predict(picture, 8, 1.0, 1, api_name="/sample")
        one = time.perf_counter() - started
        same_seconds, same_whole, _ = press_together(everyone, picture, [2] * clients)
        different_seconds, different_whole, place = press_together(everyone, picture, range(3, 3 + clients))
    finally:
        demo.close()
    return {"clients": clients, "one_request_seconds": one, "same_seconds": same_seconds, "same_whole": same_whole,
            "different_seconds": different_seconds, "different_whole": different_whole, "furthest_queue_place": place}


def cpu_seconds(process):
    """CPU seconds (user and system) that `process` (a psutil.Process) has used so far."""
    times = process.cpu_times()
    return times.user + times.system


def a_class(everyone, server, picture_file):
    """One /sample request alone, then one from each gradio_client in `everyone`, identical, at once
    (the picture's posterior cached, the answer new) on the app launched as `server`: seconds, and
    the CPU seconds of the server and of this process, whose clients share the server's cores (a
    real class brings its own machines)."""
    from gradio_client import handle_file

    picture, clients = handle_file(str(picture_file)), len(everyone)
    processes = psutil.Process(server.pid), psutil.Process()

    def cpu():
        return [cpu_seconds(process) for process in processes]

    before, started = cpu(), time.perf_counter()
    everyone[0].predict(picture, 8, 1.0, 1, api_name="/sample")
    one = time.perf_counter() - started
    server_one, client_one = map(operator.sub, cpu(), before)
    before = cpu()
    together, whole, _ = press_together(everyone, picture, [2] * clients)
    server_all, client_all = map(operator.sub, cpu(), before)
    print(f"a class of {clients} through gradio_client, /sample with 8 samples: one request alone {one:.2f} s; "
          f"all {clients} identical at once {together:.2f} s ({together / one:.1f}x one; {whole} whole answers). "
          f"CPU seconds of the server: {server_one:.2f} for one, {server_all:.2f} for all "
          f"({server_all / server_one:.1f}x); of the clients, on the same cores: {client_one:.2f} for one, "
          f"{client_all:.2f} for all", flush=True)
    return {"clients": clients, "one_request_seconds": one, "same_seconds": together, "same_whole": whole,
            "server_cpu_one": server_one, "server_cpu_same": server_all,
            "client_cpu_one": client_one, "client_cpu_same": client_all}
