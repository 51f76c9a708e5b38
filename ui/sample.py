"""Sample: decodes of z = μ + σ·ε, drawn again and again from one picture's posterior."""

import gradio as gr

from latent_lab.checks import MAX_SEED
from latent_lab.photos import sample
from latent_lab.photos.sample import SampleResult, sample_stream
from latent_lab.streams import on_model_thread
from ui import answers, common, errors, events, widgets

TITLE, VIEW, ELEM_ID = "Sample", "sample", "tab-sample"

HELP = """
**What you see.** Each picture decodes a different draw **z = μ + σ-scale · σ · ε**, with ε ~ N(0, 1).
At σ-scale 0 every sample is the reconstruction; raise it and the pictures start to differ, mostly at
edges and in textures, where the encoder is least sure. The left map shows how much each pixel varies
across the samples; the right one how far the samples land from the reconstruction, |decode(z) − decode(μ)|.
A well-trained VAE with a small KL weight (Stable Diffusion's among them) has a tiny σ: its samples look the
same until you raise the σ-scale. The same seed always gives the same samples. To see samples turn into
*other* pictures, draw a digit on the **Digits** tab: there the whole picture is one short vector.
"""


@errors.friendly
@common.gpu
@answers.remembered
@on_model_thread
def on_sample(file, n_samples, sigma_scale, seed, model=None):
    """Streams: each sample appears as soon as it is decoded."""
    for item in sample_stream(*common.vae(model), file, n_samples, sigma_scale, seed, common.max_side(model)):
        if isinstance(item, SampleResult):
            yield item.samples, item.pixel_std_plot, item.summary
        else:
            yield item, None, {"status": f"{len(item)} of {int(n_samples)} samples decoded"}


def build(page):
    with gr.Row():
        with gr.Column(scale=1):
            picture = widgets.image_input("Your picture")
            n_samples = gr.Slider(1, sample.MAX_SAMPLES, value=8, step=1, label="Number of samples")
            sigma_scale = gr.Slider(0, sample.MAX_SIGMA_SCALE, value=1, step=0.1, label="σ-scale (0 = always μ)")
            seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
            button = gr.Button("Draw samples", variant="primary")
            gr.Examples(common.EXAMPLE_IMAGES, inputs=picture)
        with gr.Column(scale=2):
            samples = gr.Gallery(label="Decoded samples z = μ + σ·ε", columns=4, height=420, format="png",
                                 elem_id="samples", object_fit="contain")
            pixel_std_plot = gr.Plot(label="Where the samples differ", show_label=False)
            summary = gr.JSON(label="Summary", elem_id="sample-summary")
    gr.Markdown(HELP)
    events.streamed(button, on_sample, [picture, n_samples, sigma_scale, seed, page.model],
                    [samples, pixel_std_plot, summary], api_name="sample")
    return dict(picture=picture, n_samples=n_samples, sigma_scale=sigma_scale, seed=seed)
