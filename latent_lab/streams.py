"""Views that show their pictures as they decode are generators: they yield the list of pictures
done so far, then their result. `decoded` decodes for such a view; `last` runs one to its result;
`in_worker` runs model work on a model thread and streams what it hands back.

All model work of a server runs on long-lived model threads (`on_model_thread`): one, or as many
as the cores allow. torch's CPU kernels run on OpenMP, which keeps a team of threads for every
thread that has run a parallel region; once the teams hold more threads than there are cores,
OpenMP stops letting its threads spin between regions, and a model making thousands of short
regions runs up to twice as slow (benchmarks/threads.py). A server's own threads, one per
request, would each keep a team.
"""

from concurrent.futures import Future, wait
import contextvars
from functools import wraps
import inspect
import os
import queue
import threading

import torch

from latent_lab import imaging, vae as vae_ops


def decoded(vae, latents, shown):
    """Decode scaled latents (N, C, h, w) batch by batch, adding each batch's pictures to `shown`
    and yielding the list so far; returns the pictures as one tensor (N, 3, H, W). Use it as
    `pictures = yield from decoded(vae, latents, shown)`."""
    batches = []
    for batch in vae_ops.decode_batches(vae, latents):
        batches.append(batch)
        shown += [imaging.to_pil(p) for p in batch]
        yield list(shown)
    return torch.cat(batches)


def last(stream):
    """The final item of a view's stream: its result."""
    for item in stream:
        pass
    return item


_FINISHED = object()


class _Failed:
    def __init__(self, error):
        self.error = error


def _settle(future, call):
    """Give `future` what `call()` returns, or the exception it raises (the caller's thread raises it)."""
    try:
        future.set_result(call())
    except BaseException as error:
        future.set_exception(error)


HEARTBEAT = 0.5  # seconds: a worker's stream yields None this often while it waits


class _ModelThreads:
    """Long-lived threads that run the calls they are given, in order: one unless a host with
    cores to spare asks for more (use_model_threads). A process forked from this one (as ZeroGPU
    forks) starts threads of its own on its first call."""

    def __init__(self):
        self.lock, self.threads, self.pid, self.count = threading.Lock(), set(), None, 1
        self.jobs, self.unfinished = queue.SimpleQueue(), 0  # jobs submitted and not yet done

    def submit(self, call):
        """A Future of `call()`, run on a model thread."""
        future = Future()
        with self.lock:
            if self.pid != os.getpid():
                self.jobs, self.pid, self.threads, self.unfinished = queue.SimpleQueue(), os.getpid(), set(), 0
            if len(self.threads) < self.count:
                thread = threading.Thread(target=self._serve, args=(self.jobs,), name="model", daemon=True)
                thread.start()
                self.threads.add(thread)
            self.jobs.put((call, future))
            self.unfinished += 1
        return future

    def _serve(self, jobs):
        while True:
            call, future = jobs.get()
            try:
                if future.set_running_or_notify_cancel():  # not cancelled while it waited
                    _settle(future, call)
            finally:
                with self.lock:
                    self.unfinished -= 1

    def idle(self):
        """Whether no model work runs or waits to run."""
        with self.lock:
            return self.unfinished == 0

    def here(self):
        return threading.current_thread() in self.threads

    def start(self, call):
        """A Future of `call()` on a model thread, in the caller's context (Gradio finds a
        request's progress bar there); done at once when this is a model thread."""
        if not self.here():
            return self.submit(lambda context=contextvars.copy_context(): context.run(call))
        future = Future()
        _settle(future, call)
        return future

    def run(self, call):
        """`call()` on a model thread, waited for."""
        return self.start(call).result()


_model_threads = _ModelThreads()
_END = object()


def use_model_threads(count):
    """Run model work on `count` threads: as many requests at once as the cores give each its
    torch threads (more teams than that would slow them all)."""
    _model_threads.count = max(1, count)


def on_model_thread(handler):
    """`handler` run on a model thread: a function's call, or a generator's every step (the
    code between two yields), so its caller can still wait, stream and be closed elsewhere. A
    generator's next step starts as soon as an item is handed over, so the model decodes the next
    pictures while the caller writes and sends these; closed, it waits for that step, if it began.
    Put it innermost, under any decorator that holds a lock across yields (answers.remembered),
    or two requests waiting for each other would wait on one thread."""
    if not inspect.isgeneratorfunction(handler):
        @wraps(handler)
        def called(*args, **kwargs):
            return _model_threads.run(lambda: handler(*args, **kwargs))
        return called

    @wraps(handler)
    def stepped(*args, **kwargs):
        stream = handler(*args, **kwargs)  # a generator does nothing until its first step

        def step():
            return next(stream, _END)

        pending = _model_threads.start(step)
        try:
            while (item := pending.result()) is not _END:
                pending = _model_threads.start(step)
                yield item
        finally:
            if not pending.cancel():  # it began: a generator cannot be closed while it runs
                wait([pending])
            _model_threads.run(stream.close)
    return stepped


def in_worker(work, heartbeat=HEARTBEAT):
    """Run `work(emit, stopped)` on a model thread and yield each event it emits, as it emits it,
    and None whenever `heartbeat` seconds pass without one: a generator can only be closed while it
    waits at a yield, so a caller who leaves is noticed within a heartbeat. Closing this generator
    sets `stopped`, a threading.Event that `work` checks between its steps; an exception raised in
    `work` is raised here. Called on a model thread itself (by a view stepped there), `work` runs
    to its end first, and its events follow."""
    events, stopped = queue.Queue(), threading.Event()

    def run():
        try:
            work(events.put, stopped)
        except Exception as error:  # handed to the caller's thread, which raises it
            events.put(_Failed(error))
        finally:
            events.put(_FINISHED)

    if _model_threads.here():
        run()
    else:
        _model_threads.submit(run)
    try:
        while True:
            try:
                event = events.get(timeout=heartbeat)
            except queue.Empty:
                yield None
                continue
            if event is _FINISHED:
                return
            if isinstance(event, _Failed):
                raise event.error
            yield event
    finally:
        stopped.set()
