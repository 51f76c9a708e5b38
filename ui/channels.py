"""Channels: the latent channels as pictures, and their values against N(0, 1)."""

import gradio as gr

from latent_lab.photos.channels import channels_view
from latent_lab.streams import on_model_thread
from ui import answers, common, errors, widgets

TITLE, VIEW, ELEM_ID = "Channels", "channels", "tab-channels"

HELP = """
**What you see.** Stable Diffusion's VAE keeps 4 latent channels at 1/8 of the picture's width and
height. Each channel is drawn on the same colour scale, so you can compare them. The histogram puts
all the latent values beside the N(0, 1) curve the KL term pulls them toward; the latents are
scaled by the model's `scaling_factor` so that, over the training data, they have unit variance.
"""


@errors.friendly
@common.gpu
@answers.remembered
@on_model_thread
def on_channels(file, model=None):
    result = channels_view(*common.vae(model), file, common.max_side(model))
    return result.channels_plot, result.histogram_plot, result.summary


def build(page):
    with gr.Row():
        with gr.Column(scale=1):
            picture, button = widgets.picture_and_button("Show channels")
        with gr.Column(scale=2):
            histogram_plot = gr.Plot(label="Latent values against N(0, 1)", show_label=False)
            summary = gr.JSON(label="Summary", elem_id="channels-summary")
    channels_plot = gr.Plot(label="Latent channels", show_label=False, elem_id="channels-plot")
    gr.Markdown(HELP)
    button.click(on_channels, [picture, page.model], [channels_plot, histogram_plot, summary], api_name="channels")
    return dict(picture=picture)
