"""Events whose handler streams: the page sees each picture as it is made, an API caller only the
final answer. Gradio sends every partial answer of a streaming event to whoever called it, and a
client downloads each picture of each one; it downloads a stream's last answer twice, too (in the
last partial update and again in the final message). So the page's button streams through a
private event, and the public api_name belongs to a hidden trigger whose handler is not a stream:
it runs the same stream to its end and answers once."""

import asyncio
from contextlib import closing
from functools import wraps
import threading

import gradio as gr
from gradio.context import LocalContext


def _request_record():
    """Gradio's record of the request being served (its `alive` turns False when the caller's
    connection closes), or None where there is none to be found."""
    queue = getattr(LocalContext.blocks.get(None), "_queue", None)
    event_id = LocalContext.event_id.get(None)
    return None if queue is None or event_id is None else queue.event_ids_to_events.get(event_id)


def final_answer(handler):
    """A coroutine that runs streaming `handler` to its end on a worker thread and answers with its
    last answer. It stops at the next partial answer when the caller cancels (/cancel) or hangs up
    (Gradio marks the request gone when its connection closes); a cancelled request waits for the
    step under way, so the model is free when the cancel returns."""
    @wraps(handler)  # the same signature: Gradio still hands it a progress tracker where it takes one
    async def final(*args, **kwargs):
        stopped, record = threading.Event(), _request_record()

        def run():
            answer = gr.skip()
            with closing(handler(*args, **kwargs)) as stream:
                for answer in stream:
                    if stopped.is_set() or not getattr(record, "alive", True):
                        return gr.skip()  # nothing: nobody is waiting for it
            return answer

        work = asyncio.ensure_future(asyncio.to_thread(run))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            stopped.set()
            await asyncio.wait([work])
            raise
    final.model_work = getattr(handler, "model_work", False)
    return final


def streamed(button, handler, inputs, outputs, api_name, **options):
    """`button` streams `handler`'s answers to the page; /`api_name` answers once, with the last."""
    button.click(handler, inputs, outputs, api_visibility="private", **options)
    gr.Button(visible=False, elem_classes=["api-only"]).click(final_answer(handler), inputs, outputs,
                                                              api_name=api_name, **options)
