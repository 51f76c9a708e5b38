"""How a handler fails and streams: our exceptions become gr.Error with their sentence, anything
else a plain sentence with the traceback in the log; callers whose inputs do not fit an endpoint
are told what it takes; streamed partial answers are thinned."""

from functools import wraps
import inspect
import logging
import os
import re
import time

import gradio as gr

from latent_lab import imaging, models
from latent_lab.checks import InputError
from latent_lab.config import ASSETS
from latent_lab.diffusion.generate import GenerationError
from ui.files import as_files

# Our own exceptions: their sentences are written for the user.
EXPECTED_ERRORS = (InputError, imaging.ImageError, models.ModelUnavailableError, GenerationError)
SOMETHING_WENT_WRONG = "Something went wrong on the server with this request. Try again, or with other settings."
ECHO_LIMIT = 100  # characters of a value a caller sent that a message may quote
log = logging.getLogger("latent_lab.ui")


class Page(gr.Blocks):
    """gr.Blocks whose API callers get a plain sentence when their inputs do not fit an endpoint
    (too few values, a value of the wrong kind), instead of Gradio's message about its components."""

    async def preprocess_data(self, block_fn, inputs, state, explicit_call=False):
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except gr.Error as error:
            raise without_long_echo(error) from None
        except Exception as error:
            log.info("inputs that do not fit %s: %s", block_fn.name, type(error).__name__)
            labels = [block.label or type(block).__name__.lower() for block in block_fn.inputs
                      if not block.stateful and getattr(block, "label", None) is not None]
            raise gr.Error(f"These inputs do not fit this action: it takes {len(labels)} value(s), in this order: "
                           f"{'; '.join(labels)}. The README's API table says what each accepts.",
                           print_exception=False) from None


def without_long_echo(error):
    """Gradio's own refusal of a choice quotes the value it was sent, whatever its length: the
    value is cut to about 100 characters (the choices are ours, and listed in full up to 300)."""
    refused = re.fullmatch(r"Value: (.*) is not in the list of choices: (.*)", str(error.message), flags=re.S)
    if refused is None:
        return error
    value, choices = (text if len(text) <= limit else text[:limit] + "..."
                      for text, limit in zip(refused.groups(), (ECHO_LIMIT, 300)))
    return gr.Error(f"{value} is not one of the choices: {choices}", print_exception=False)


def user_error(error):
    """The gr.Error a user sees for `error`: our own sentence, or a plain one; details go to the log."""
    if isinstance(error, gr.Error):
        return error
    if isinstance(error, EXPECTED_ERRORS):  # a setting may name the project's folder: not shown
        if error.__cause__ is not None:  # what went wrong underneath stays in the server's log
            log.warning("%s", error, exc_info=error.__cause__)
        return gr.Error(str(error).replace(f"{ASSETS.parent}{os.sep}", ""), print_exception=False)
    log.exception("unexpected error in a handler", exc_info=error)  # the details stay in the server's log
    return gr.Error(SOMETHING_WENT_WRONG, print_exception=False)


# A streaming handler's partial answers closer together than this are skipped (the first and the
# last always go): each update makes Gradio process every output again, the whole gallery included.
STREAM_EVERY = 0.4  # seconds


def friendly(handler):
    """Our exceptions become gr.Error with their sentence, anything else a plain sentence (the
    traceback goes to the log); pictures in the outputs become files we wrote whole. A streaming
    handler sends its partial answers at most every STREAM_EVERY seconds."""
    if inspect.isgeneratorfunction(handler):
        @wraps(handler)
        def streaming(*args, **kwargs):
            written = {}  # a picture streamed again is not written again
            sent, held = None, None  # the first partial answer always goes
            try:
                for outputs in handler(*args, **kwargs):
                    held = outputs
                    if sent is None or time.monotonic() - sent >= STREAM_EVERY:
                        yield as_files(outputs, written)
                        sent, held = time.monotonic(), None
                if held is not None:  # the final answer always goes
                    yield as_files(held, written)
            except Exception as error:
                raise user_error(error) from error
        streaming.model_work = True
        return streaming

    @wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return as_files(handler(*args, **kwargs))
        except Exception as error:
            raise user_error(error) from error
    wrapped.model_work = True  # app.py puts every such event in the one concurrency group
    return wrapped
