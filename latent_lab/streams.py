"""Views that show their pictures as they decode are generators: they yield the list of pictures
done so far, then their result. `decoded` decodes for such a view; `last` runs one to its result;
`in_worker` runs model work in a thread of its own and streams what it hands back."""

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


HEARTBEAT = 0.5  # seconds: a worker's stream yields None this often while it waits


def in_worker(work, heartbeat=HEARTBEAT):
    """Run `work(emit, stopped)` in a worker thread and yield each event it emits, as it emits it,
    and None whenever `heartbeat` seconds pass without one: a generator can only be closed while it
    waits at a yield, so a caller who leaves is noticed within a heartbeat. Closing this generator
    sets `stopped`, a threading.Event that `work` checks between its steps; an exception raised in
    `work` is raised here."""
    events, stopped = queue.Queue(), threading.Event()

    def run():
        try:
            work(events.put, stopped)
        except Exception as error:  # handed to the caller's thread, which raises it
            events.put(_Failed(error))
        finally:
            events.put(_FINISHED)

    threading.Thread(target=run, daemon=True).start()
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
