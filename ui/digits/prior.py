"""Digits, Prior samples: the same random latents decoded by each 16-number model."""

import gradio as gr

from latent_lab.checks import MAX_SEED
from latent_lab.digits import samples
from latent_lab.streams import on_model_thread
from ui import answers, errors

PRIOR_HELP = """
**Random latents.** The same seeded z ~ N(0, I) decoded by each 16-number model, one row each. The VAE was trained to
fill N(0, I), so most of its random latents decode to clear digits; most of the AE's decode to faint strokes that are
no digit, because its codes live somewhere else (the row titles and `digit_likeness`).
"""


@errors.friendly
@answers.remembered
@on_model_thread
def on_prior(n_samples, seed):
    return samples.prior_samples_view(n_samples, seed)


def build(page, yours):
    with gr.Tab("Prior samples", elem_id="digits-prior-tab", id="digits-prior"):
        gr.Markdown(PRIOR_HELP)
        with gr.Row():
            prior_count = gr.Slider(1, samples.MAX_SAMPLES, value=12, step=1, label="Samples per model")
            prior_seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
            prior_button = gr.Button("Decode random latents", variant="primary")
        prior_grid = gr.Image(label="z ~ N(0, I), one row per model", format="png", interactive=False,
                              elem_id="digits-prior")
        prior_summary = gr.JSON(label="Summary", elem_id="digits-prior-summary")
    prior_button.click(on_prior, [prior_count, prior_seed], [prior_grid, prior_summary], api_name="digits_prior")
