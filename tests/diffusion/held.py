"""A UNet held in the middle of denoising, for tests of a stream closed while its work runs."""

import threading

from latent_lab import streams
from latent_lab.diffusion import generate


class HeldUNet:
    """Counts a UNet's calls, and holds the `hold_at`-th call until `release` is set, so that a test
    can act while the model thread is in the middle of denoising."""

    def __init__(self, unet, hold_at):
        self.calls, self.hold_at = 0, hold_at
        self.held, self.release = threading.Event(), threading.Event()
        self.hook = unet.register_forward_hook(self._count)

    def _count(self, module, args, output):
        self.calls += 1
        if self.calls == self.hold_at:
            self.thread = threading.current_thread()
            self.held.set()
            self.release.wait(timeout=300)  # a failing test releases it in its finally

    def remove(self):
        self.release.set()
        self.hook.remove()


def close_while_held(events, unet, first):
    """Take the stream's first event that is no heartbeat (it must match `first`, as (kind, index)),
    wait until `unet` is held on a model thread, close the stream as Gradio does when the client
    leaves, and let the step under way finish. Asserts the work ends and frees the pipeline's
    lock; returns the UNet calls made when the stream was closed."""
    try:
        event = next(event for event in events if event[0] != "wait")
        assert event[::2] == first
        assert unet.held.wait(timeout=300)
        assert unet.thread in streams._model_threads.threads and generate._run_lock.locked()
        events.close()
        calls_at_close = unet.calls
    finally:
        unet.remove()
    assert generate._run_lock.acquire(timeout=300)  # the work has ended: it held the lock while it denoised
    generate._run_lock.release()
    return calls_at_close
