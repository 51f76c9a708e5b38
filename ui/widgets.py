"""Widgets several tabs use: picture inputs that check uploads, the example photos under a button,
and the layouts of frames, strips, plots and summaries."""

import threading

import gradio as gr
from gradio.components.base import server

from latent_lab import imaging
from ui.common import EXAMPLE_IMAGES


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


class Sketchpad(gr.Sketchpad):
    """A sketchpad that hands the handler the drawing's bytes. The browser sends a drawing ahead of
    its events, as blobs: only its composite is kept, never its layers (so no index a caller sends
    allocates anything), and the kept drawings are bounded in count and bytes, the least recently
    used freed first. A drawing stays readable until then, as the page sends it once and may use it
    for several events (a slider moved after drawing). A file it names is read only from Gradio's
    upload folder, as for ImageFile."""

    KEPT_DRAWINGS, KEPT_BYTES = 64, 8_000_000  # per sketchpad; beyond either, the least recently used go
    MAX_DRAWING_BYTES = 4_000_000  # a 280x280 drawing is a few KB
    MAX_ID = 100  # characters

    _kept_lock = threading.Lock()  # a class attribute: Gradio reads a component's settings from __init__

    def get_block_name(self):
        return "imageeditor"  # drawn by the browser exactly as gr.Sketchpad

    @server
    def accept_blobs(self, data):
        kind, key = data.data.get("type"), str(data.data.get("id"))
        if kind != "composite" or not data.files or len(key) > self.MAX_ID:
            return  # layers and backgrounds are never used: not kept
        drawing = data.files[0][1]
        if len(drawing) > self.MAX_DRAWING_BYTES:
            return  # not kept: the event that reads it says "draw a digit first"
        with self._kept_lock:
            self.blob_storage.pop(key, None)
            self.blob_storage[key] = drawing
            while (len(self.blob_storage) > self.KEPT_DRAWINGS
                   or sum(map(len, self.blob_storage.values())) > self.KEPT_BYTES):
                self.blob_storage.pop(next(iter(self.blob_storage)))

    def preprocess(self, payload):
        if payload is None:
            return None
        if payload.id is not None:
            with self._kept_lock:
                drawing = self.blob_storage.pop(payload.id, None)
                if drawing is not None:
                    self.blob_storage[payload.id] = drawing  # the most recently used, kept last
                return drawing
        if payload.composite is None:
            return None
        try:
            return imaging.read_upload(payload.composite.path, [self.GRADIO_CACHE])
        except imaging.ImageError as error:
            raise gr.Error(str(error), print_exception=False) from None


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
                        object_fit="contain", elem_classes=["fit-gallery"])
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
