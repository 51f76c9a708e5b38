"""Encode: where the encoder puts a picture, μ and σ per latent cell, and its reconstruction."""

import gradio as gr

from latent_lab.photos.encode import encode_view
from latent_lab.streams import on_model_thread
from ui import answers, common, errors, widgets

TITLE, VIEW, ELEM_ID = "Encode", "encode", "tab-encode"

HELP = """
**What you see.** The reconstruction is the decoder's picture of μ. The maps show μ (top) and
σ (bottom) for each of the latent channels; each cell stands for an 8×8 patch of pixels.
Where σ is small the encoder is sure; where it is large, many latents would do.
*PSNR* measures how close the reconstruction is (higher is closer; 30 dB looks near-identical).
*KL per dim* is how far the posterior is from N(0, 1): the price the VAE pays to keep its space smooth.
"""


@errors.friendly
@common.gpu
@answers.remembered
@on_model_thread
def on_encode(file, model=None):
    result = encode_view(*common.vae(model), file, common.max_side(model))
    return result.reconstruction, result.posterior_plot, result.summary


def build(page):
    with gr.Row():
        with gr.Column(scale=1):
            picture, button = widgets.picture_and_button("Encode")
        with gr.Column(scale=1):
            reconstruction = gr.Image(label="Reconstruction (decoded μ)", height=300, interactive=False, format="png",
                                      elem_id="reconstruction")
            summary = gr.JSON(label="Summary", elem_id="encode-summary")
    posterior_plot = gr.Plot(label="μ and σ per latent cell", show_label=False)
    gr.Markdown(HELP)
    button.click(on_encode, [picture, page.model], [reconstruction, posterior_plot, summary], api_name="encode")
    page.shared["encode.picture"] = picture
    return dict(picture=picture)
