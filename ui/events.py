"""Events whose handler streams: the page sees each picture as it is made, an API caller only the
final answer. Gradio sends every partial answer of a streaming event to whoever called it, and a
client downloads each picture of each one; so the page's button streams through a private event,
and the public api_name belongs to a hidden trigger whose handler runs the same stream and sends
only its last answer (gr.skip() before it, which carries nothing)."""

from functools import wraps

import gradio as gr


def final_answer(handler):
    """A handler that runs streaming `handler` to its end and answers with its last answer; in
    between it yields gr.skip() for every output (no picture is sent), so that Gradio can close it,
    and with it `handler`, when the caller leaves."""
    @wraps(handler)  # the same signature: Gradio still hands it a progress tracker where it takes one
    def final(*args, **kwargs):
        answer = None
        for answer in handler(*args, **kwargs):
            yield tuple(gr.skip() for _ in answer) if isinstance(answer, tuple) else gr.skip()
        yield answer
    final.model_work = getattr(handler, "model_work", False)
    return final


def streamed(button, handler, inputs, outputs, api_name, **options):
    """`button` streams `handler`'s answers to the page; /`api_name` answers once, with the last."""
    button.click(handler, inputs, outputs, api_visibility="private", **options)
    gr.Button(visible=False, elem_classes=["api-only"]).click(final_answer(handler), inputs, outputs,
                                                              api_name=api_name, **options)
