"""The files handed to Gradio: pictures, drawings of figures, text, animations and videos, each
written whole under a new name."""

from concurrent.futures import ThreadPoolExecutor
import os
from pathlib import Path
import tempfile
import threading
import time

from gradio import processing_utils
from gradio.components.plot import PlotData
from matplotlib.figure import Figure
from PIL import Image

from latent_lab.export import save_gif, save_mp4

# Files handed to Gradio. Gradio names the pictures it saves itself by their content and writes
# them in place, so two requests making the same picture can serve each other a half-written
# file. We write every file under a new name and rename it into place when it is whole; Gradio
# copies such files atomically into its cache at once, so ours are swept after a few minutes.
FOLDER = Path(tempfile.gettempdir()) / "latent-lab"
KEEP_SECONDS = 600
_last_sweep = [0.0]
_sweep_lock = threading.Lock()
_writers = ThreadPoolExecutor(4, thread_name_prefix="animation")  # GIFs and MP4s


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


def write_gif(pictures):
    return write_file(lambda path: save_gif(pictures, path, format="GIF"), "path", ".gif")


def write_video(pictures):
    return write_file(lambda path: save_mp4(pictures, path), "path", ".mp4")


def animated(pictures, figure, video=True):
    """(GIF, MP4 or None without `video`, drawn figure) of a view's frames, made at once: Pillow
    writes the GIF and ffmpeg encodes the MP4 outside Python's lock while the figure is drawn here."""
    gif = _writers.submit(write_gif, pictures)
    mp4 = _writers.submit(write_video, pictures) if video else None
    drawing = drawn(figure)
    return gif.result(), mp4 and mp4.result(), drawing
