"""AE vs VAE on photos: each model of the family side by side."""

import gradio as gr

from latent_lab.checks import MAX_SEED
from latent_lab.photos import compare
from latent_lab.photos.compare import CompareResult, compare_stream
from latent_lab.streams import on_model_thread
from ui import answers, common, errors, events, widgets

TITLE, VIEW, ELEM_ID = "AE vs VAE", "compare", "tab-compare"

HELP = """
**Autoencoder vs VAE on photos.** The same pictures go through each model of the family: a plain **autoencoder**
(no KL term: each picture is one point), the default **VAE**, and a VAE with a **strong KL** term. Each row walks in
a straight line from A's latent to B's, then decodes four random latents z ~ N(0, I). What the rows show honestly:
the reconstructions differ a little (compare the dB figures: a smooth, filled space costs some sharpness), the paths
all look like crossfades (`crossfade_psnr_db`: each frame's distance to a pixel crossfade), and the random latents decode to **texture for every model**. That is no flaw of these
models: a spatial latent holds one independent cell per 8×8 patch, and independent N(0, 1) cells are no picture for
any such VAE, Stable Diffusion's included. The autoencoder-versus-VAE lesson (holes, a filled plane, samples that
vary around a digit, random latents that decode to digits) is on the **Digits** tab, on models whose latent is one
short vector for the whole picture.
"""


@errors.friendly
@common.gpu
@answers.remembered
@on_model_thread
def on_compare(file_a, file_b, steps, seed):
    """Streams: each model's row appears as soon as it is decoded."""
    named = [(name, common.vae(name)[0]) for name in common.settings.vae_choices()]
    for item in compare_stream(named, file_a, file_b, steps, seed):
        if isinstance(item, CompareResult):
            yield item.rows, item.change_plot, item.summary
        else:
            yield item, None, {"status": f"{len(item)} of {len(named)} models decoded"}


def build(page):
    gr.Markdown(HELP)
    with gr.Row():
        picture_a = widgets.image_input("Picture A")
        picture_b = widgets.image_input("Picture B")
        with gr.Column():
            steps = gr.Slider(compare.MIN_STEPS, compare.MAX_STEPS, value=8, step=1, label="Frames")
            seed = gr.Number(0, label="Seed for the prior's z", precision=0, minimum=0, maximum=MAX_SEED)
            button = gr.Button("Compare the models", variant="primary")
    gr.Examples(common.EXAMPLE_PAIRS, inputs=[picture_a, picture_b])
    rows, plot, summary = widgets.rows_plot_summary(
        "Per model: the path from A to B, then decodes of random z ~ N(0, I)", "Smoothness of each path",
        "compare-rows", summary_id="compare-summary")
    events.streamed(button, on_compare, [picture_a, picture_b, steps, seed], [rows, plot, summary], api_name="compare")
    return dict(picture_a=picture_a, picture_b=picture_b, steps=steps, seed=seed)
