"""Traverse: push one latent channel, everywhere or in a box of cells, and see what it controls."""

import gradio as gr

from latent_lab.checks import InputError, shorten
from latent_lab.photos import traverse
from latent_lab.photos.traverse import TraverseResult, traverse_stream
from latent_lab.streams import on_model_thread
from ui import answers, common, errors, events, files, widgets

TITLE, VIEW, ELEM_ID = "Traverse", "traverse", "tab-traverse"

HELP = """
**What does one latent channel do?** Take the picture's μ, add a growing offset to one channel (in every cell, or
only in a box of cells), and decode each step. Offsets are counted in the channel's own **spread** (how much μ
varies across the picture) or in each cell's **σ**. A few σ barely changes anything: that is the posterior's
uncertainty, the room the VAE leaves for noise. A few spreads changes colour or brightness in a way you can name.
"""


def parse_region(text):
    """'top, left, bottom, right' in latent cells, or None for an empty box."""
    text = (text or "").strip() if isinstance(text, str) or text is None else text
    if not text:
        return None
    try:
        return [int(part) for part in str(text)[:200].replace(";", ",").split(",")]
    except ValueError:
        raise InputError(f"Region must be four whole numbers 'top, left, bottom, right'; got {shorten(text)}.") from None


def channel_slider(model=None):
    """The channel slider for the chosen VAE: 0 to its last latent channel."""
    try:
        channels = common.vae(model)[0].config.latent_channels
    except (ValueError, RuntimeError):  # the model is missing: the tabs say so when used
        channels = 4
    return gr.Slider(0, channels - 1, step=1, label=f"Latent channel (this VAE has {channels})")


@errors.friendly
@common.gpu
@answers.remembered
@on_model_thread
def on_traverse(file, channel, low, high, steps, unit, region, model=None):
    """Streams: the frames appear as they are decoded."""
    for item in traverse_stream(*common.vae(model), file, channel, low, high, steps, unit, parse_region(region),
                                common.max_side(model)):
        if isinstance(item, TraverseResult):
            yield item.frames, *files.animated(item.frames, item.change_plot), item.summary
        else:
            yield item, None, None, None, {"status": f"{len(item)} of {int(steps)} frames decoded"}


def build(page):
    gr.Markdown(HELP)
    with gr.Row():
        with gr.Column(scale=1):
            picture = widgets.image_input("Your picture")
            gr.Examples(common.EXAMPLE_IMAGES, inputs=picture)
        with gr.Column(scale=1):
            channel = channel_slider()
            with gr.Row():
                low = gr.Slider(-traverse.MAX_OFFSET, traverse.MAX_OFFSET, value=-3, step=0.5, label="From")
                high = gr.Slider(-traverse.MAX_OFFSET, traverse.MAX_OFFSET, value=3, step=0.5, label="To")
            steps = gr.Slider(traverse.MIN_STEPS, traverse.MAX_STEPS, value=7, step=1, label="Frames")
            unit = gr.Radio([("the channel's spread", "spread"), ("σ of each cell", "sigma")],
                            value="spread", label="Step in units of")
            region = gr.Textbox(label="Only these cells (optional): top, left, bottom, right",
                                placeholder="e.g. 0, 0, 16, 16 (empty: the whole channel)")
            button = gr.Button("Traverse", variant="primary")
    outputs = widgets.frames_animation_plot("Decodes along the channel", "Change from the reconstruction",
                                           "traverse-frames", "traverse-summary")
    events.streamed(button, on_traverse, [picture, channel, low, high, steps, unit, region, page.model], outputs,
                    api_name="traverse")
    page.model.change(channel_slider, page.model, channel, api_visibility="private")
    return dict(picture=picture, channel=channel, low=low, high=high, steps=steps, unit=unit, region=region)
