"""What every tab shares: the settings, the picture input that checks uploads, error handling,
the ZeroGPU decorator, the models, and the writers of the files handed to Gradio."""

from collections import OrderedDict
from functools import wraps
import hashlib
import inspect
import logging
import os
from pathlib import Path
import tempfile
import threading
import time

import gradio as gr
from gradio import processing_utils
from gradio.components.plot import PlotData
from matplotlib.figure import Figure
from PIL import Image

from latent_lab import generate, imaging, models
from latent_lab.checks import InputError
from latent_lab.config import ASSETS, EXAMPLES, Settings

settings = Settings.from_env()  # tests replace it before the app is built
EXAMPLE_IMAGES = sorted(str(p) for p in EXAMPLES.glob("*.jpg"))
EXAMPLE_PAIRS = [EXAMPLE_IMAGES[i:i + 2] for i in range(0, len(EXAMPLE_IMAGES) - 1, 2)]
# Our own exceptions: their sentences are written for the user.
EXPECTED_ERRORS = (InputError, imaging.ImageError, models.ModelUnavailableError, generate.GenerationError)
SOMETHING_WENT_WRONG = "Something went wrong on the server with this request. Try again, or with other settings."
log = logging.getLogger("latent_lab.ui")


class ImageFile(gr.Image):
    """A picture input that hands the handler the upload's bytes, read only from the folder where
    Gradio keeps what it received; our loader (imaging.load_image) then checks the picture."""

    is_template = True  # drawn by the browser exactly as gr.Image

    def preprocess(self, payload):
        if payload is None:
            return None
        try:
            return imaging.read_upload(payload.path, [self.GRADIO_CACHE])
        except imaging.ImageError as error:
            raise gr.Error(str(error), print_exception=False) from None


class Page(gr.Blocks):
    """gr.Blocks whose API callers get a plain sentence when their inputs do not fit an endpoint
    (too few values, a value of the wrong kind), instead of Gradio's message about its components."""

    async def preprocess_data(self, block_fn, inputs, state, explicit_call=False):
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except gr.Error:
            raise
        except Exception as error:
            log.info("inputs that do not fit %s: %s", block_fn.name, type(error).__name__)
            labels = [block.label or type(block).__name__.lower() for block in block_fn.inputs
                      if not block.stateful and getattr(block, "label", None) is not None]
            raise gr.Error(f"These inputs do not fit this action: it takes {len(labels)} value(s), in this order: "
                           f"{'; '.join(labels)}. The README's API table says what each accepts.",
                           print_exception=False) from None


def user_error(error):
    if isinstance(error, gr.Error):
        return error
    if isinstance(error, EXPECTED_ERRORS):  # a setting may name the project's folder: not shown
        return gr.Error(str(error).replace(f"{ASSETS.parent}{os.sep}", ""), print_exception=False)
    log.exception("unexpected error in a handler")  # the details stay in the server's log
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
            sent, held = 0.0, None
            try:
                for outputs in handler(*args, **kwargs):
                    held = outputs
                    if time.monotonic() - sent >= STREAM_EVERY:
                        yield as_files(outputs, written)
                        sent, held = time.monotonic(), None
                if held is not None:  # the final answer always goes
                    yield as_files(held, written)
            except Exception as error:
                raise user_error(error) from error
        return streaming

    @wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return as_files(handler(*args, **kwargs))
        except Exception as error:
            raise user_error(error) from error
    return wrapped


# Identical requests (a class pressing the same example) are computed once: the first computes,
# the others wait for its answer and get it. Keyed by the inputs' content; kept a few minutes.
REMEMBER = 16  # answers (their figures kept drawn: tens of KB each)
REMEMBER_SECONDS = 300  # shorter than KEEP_SECONDS, so the files of a kept answer still exist
_answers = OrderedDict()
_answers_lock = threading.Lock()


class _Answer:
    def __init__(self):
        self.lock, self.outputs, self.made = threading.Lock(), None, 0.0


def _content_key(value):
    if isinstance(value, (bytes, bytearray)):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return repr(value)[:10_000]


def remembered(handler):
    """Compute an answer once for identical inputs; requests that ask again get the same answer.
    A streaming handler streams to the first request; the others get its last answer."""
    def answer_for(args, kwargs):
        key = (handler.__qualname__, *map(_content_key, args), *map(_content_key, sorted(kwargs.items())))
        with _answers_lock:
            answer = _answers.get(key)
            if answer is None or (answer.outputs is not None and time.time() - answer.made > REMEMBER_SECONDS):
                answer = _answers[key] = _Answer()
            _answers.move_to_end(key)
            while len(_answers) > REMEMBER:
                _answers.popitem(last=False)
        return answer

    if inspect.isgeneratorfunction(handler):
        @wraps(handler)
        def remembering_stream(*args, **kwargs):
            answer = answer_for(args, kwargs)
            with answer.lock:  # the first computes and streams; identical requests wait here
                if answer.outputs is None:
                    written, outputs = {}, None
                    for outputs in handler(*args, **kwargs):
                        outputs = as_files(outputs, written)
                        yield outputs
                    answer.outputs, answer.made = outputs, time.time()
                    return
            yield answer.outputs
        return remembering_stream

    @wraps(handler)
    def remembering(*args, **kwargs):
        answer = answer_for(args, kwargs)
        with answer.lock:  # the first computes; identical requests wait here for its answer
            if answer.outputs is None:
                outputs = as_files(handler(*args, **kwargs))
                answer.outputs, answer.made = outputs, time.time()
                return outputs
        return answer.outputs
    return remembering


def gpu_decorator():
    """`spaces.GPU` where the `spaces` package is installed (ZeroGPU hardware on Hugging Face
    Spaces, which lends a GPU to one call at a time); elsewhere handlers run as they are."""
    try:
        import spaces
    except ImportError:
        return lambda handler: handler
    return spaces.GPU


gpu = gpu_decorator()  # on every handler that runs a model


def vae(name=None):
    """The chosen VAE (default: LATENT_LAB_VAE's) and its source, loaded once."""
    choices = settings.vae_choices()
    name = name or settings.vae_name
    if name not in choices:
        raise InputError(f"Unknown model {str(name)[:80]!r}. Choose one of: {', '.join(choices)}.")
    return models.load_vae(choices[name]), choices[name]


def pipe():
    return models.load_pipeline(settings.pipeline)


# Files handed to Gradio. Gradio names the pictures it saves itself by their content and writes
# them in place, so two requests making the same picture can serve each other a half-written
# file. We write every file under a new name and rename it into place when it is whole; Gradio
# copies such files atomically into its cache at once, so ours are swept after a few minutes.
FOLDER = Path(tempfile.gettempdir()) / "latent-lab"
KEEP_SECONDS = 600
_last_sweep = [0.0]
_sweep_lock = threading.Lock()


def _sweep():
    with _sweep_lock:
        if time.time() - _last_sweep[0] < 60:
            return
        _last_sweep[0] = time.time()
    for old in FOLDER.glob("*"):
        try:
            if time.time() - old.stat().st_mtime > KEEP_SECONDS:
                old.unlink()
        except OSError:
            pass  # another request swept it first


def write_file(save, prefix, suffix):
    """Write a file with `save(path)` under a new name and return its path once it is whole."""
    FOLDER.mkdir(exist_ok=True)
    _sweep()
    descriptor, partial = tempfile.mkstemp(dir=FOLDER, prefix=f".{prefix}-", suffix=suffix)
    os.close(descriptor)
    final = FOLDER / Path(partial).name.lstrip(".")
    try:
        save(partial)
        os.replace(partial, final)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return str(final)


def write_picture(picture):
    """A PNG (lossless: the API's numbers are measured on the pixels) of `picture`."""
    return write_file(lambda path: picture.save(path, format="PNG", compress_level=1), "picture", ".png")


def drawn(figure):
    """A matplotlib figure (ours: no pyplot state) drawn once, as gr.Plot sends it (WebP): an
    answer kept for identical requests is not drawn again for each of them."""
    return PlotData(type="matplotlib", plot=processing_utils.encode_plot_to_base64(figure, "webp"))


def write_text(text, prefix):
    return write_file(lambda path: Path(path).write_text(text, encoding="utf-8"), prefix, ".json")


def as_files(value, written=None):
    """`value` with every PIL picture in it (also in tuples and lists) replaced by its file, and
    every figure by its drawing; `written` ({id: (picture, path)}) remembers pictures already
    written in this answer."""
    written = {} if written is None else written
    if isinstance(value, Image.Image):
        if id(value) not in written:
            written[id(value)] = value, write_picture(value)  # the picture is kept: its id stays its own
        return written[id(value)][1]
    if isinstance(value, Figure):
        return drawn(value)
    if isinstance(value, (tuple, list)):
        return type(value)(as_files(item, written) for item in value)
    return value


def image_input(label, height=300, **options):
    return ImageFile(label=label, type="filepath", sources=["upload", "clipboard"], height=height, **options)


def picture_and_button(action):
    """A picture input, the button that acts on it, and the example photos below them."""
    picture = image_input("Your picture")
    button = gr.Button(action, variant="primary")
    gr.Examples(EXAMPLE_IMAGES, inputs=picture)
    return picture, button


def frames_animation_plot(label, plot_label, elem_id, summary_id):
    """A row of frames, and below it their animation, a plot and a column with the MP4 and the JSON
    summary: (frames, animation, video, plot, summary), in the order the handlers return them."""
    frames = gr.Gallery(label=label, columns=8, height="auto", format="png", elem_id=elem_id,
                        elem_classes=["fit-gallery"])
    with gr.Row():
        animation = gr.Image(label="Animation", height=260, interactive=False)
        plot = gr.Plot(label=plot_label, show_label=False)
        with gr.Column():
            video = gr.File(label="Video (MP4)")
            summary = gr.JSON(label="Summary", elem_id=summary_id)
    return frames, animation, video, plot, summary


def rows_plot_summary(label, plot_label, elem_id, summary_id=None):
    """A one-column gallery of captioned strips, with a plot and a JSON summary beside each other below it."""
    rows = gr.Gallery(label=label, columns=1, height="auto", format="png", elem_id=elem_id,
                      elem_classes=["fit-gallery", "strips"])
    with gr.Row():
        plot = gr.Plot(label=plot_label, show_label=False)
        summary = gr.JSON(label="Summary", elem_id=summary_id or f"{elem_id}-summary")
    return rows, plot, summary
