"""Arithmetic: decode z(A) + strength · (z(C) − z(B)) on the latents of three pictures."""

import gradio as gr

from latent_lab.photos.arithmetic import MAX_STRENGTH, arithmetic_view
from latent_lab.config import EXAMPLES
from latent_lab.streams import on_model_thread
from ui import answers, common, errors, widgets

TITLE, VIEW, ELEM_ID = "Arithmetic", "arithmetic", "tab-arithmetic"

HELP = """
**Arithmetic with latents.** Encode three pictures and decode **z(A) + strength · (z(C) − z(B))**: take from A what
B has, add what C has. Because this VAE's latent is a *spatial* grid, the arithmetic happens cell by cell. In the
first example row, C − B is "red turned green", learnt on a yellow background: added to A, it turns A's red circle
green and leaves its blue background alone. In the second, C − B is "white turned black" behind the star. Strength 0
gives A back; negative strengths go the other way.
"""

SCENE_TRIPLES = [[str(EXAMPLES / "scenes" / f"{name}.png") for name in triple] for triple in (
    ("red-circle-on-blue", "red-circle-on-yellow", "green-circle-on-yellow"),
    ("blue-star-on-white", "yellow-star-on-white", "yellow-star-on-black"))]


@errors.friendly
@common.gpu
@answers.remembered
@on_model_thread
def on_arithmetic(file_a, file_b, file_c, strength, model=None):
    result = arithmetic_view(*common.vae(model), file_a, file_b, file_c, strength, common.max_side(model))
    return result.result, result.reconstructions, result.summary


def build(page):
    gr.Markdown(HELP)
    with gr.Row():
        picture_a = widgets.image_input("A")
        picture_b = widgets.image_input("B (take away)")
        picture_c = widgets.image_input("C (add)")
    with gr.Row():
        strength = gr.Slider(-MAX_STRENGTH, MAX_STRENGTH, value=1, step=0.1, label="Strength of C − B")
        button = gr.Button("Compute A + strength · (C − B)", variant="primary")
    gr.Examples(SCENE_TRIPLES + [common.EXAMPLE_IMAGES[:3]], inputs=[picture_a, picture_b, picture_c])
    with gr.Row():
        result = gr.Image(label="Decode of A + strength · (C − B)", format="png", height=300, interactive=False,
                          elem_id="arithmetic-result")
        parts = gr.Gallery(label="Reconstructions of A, B and C", columns=3, height=300, format="png",
                           object_fit="contain")
        summary = gr.JSON(label="Summary", elem_id="arithmetic-summary")
    button.click(on_arithmetic, [picture_a, picture_b, picture_c, strength, page.model], [result, parts, summary],
                 api_name="arithmetic")
    return dict(picture_a=picture_a, picture_b=picture_b, picture_c=picture_c, strength=strength)
