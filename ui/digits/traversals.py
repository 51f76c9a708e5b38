"""Digits, Traversals: every latent number of the 16-number VAE swept around a digit's μ."""

import gradio as gr

from latent_lab.digits import traversals
from latent_lab.streams import on_model_thread
from ui import answers, errors
from ui.digits.shared import first_of, ink, sketchpad, test_digit_choices

TRAVERSE_HELP = """
**What does each number control?** Every latent number of the 16-number VAE, from -3 to +3 around the digit's μ, the
others kept. Rows are sorted by that number's KL over the test digits (`kl_per_dim_test_mean`; `active_dims` counts
those above 0.1 nats): the first rows change slant, width, thickness or the digit itself, the last ones least. This
VAE uses 13 of its 16 numbers: the KL switched 3 off, and their rows, the last ones, do not change; at a larger KL
weight more switch off (see *β, the KL weight*).
"""


@errors.friendly
@answers.remembered
@on_model_thread
def on_traverse(drawing, test_index, steps, span):
    return traversals.traversal_view(ink(drawing, None, test_index), steps, span)


def build(page, yours):
    choices = test_digit_choices()
    with gr.Tab("Traversals", elem_id="digits-traverse-tab", id="digits-traverse"):
        gr.Markdown(TRAVERSE_HELP)
        with gr.Row():
            traverse_sketch = sketchpad("A digit (draw, or pick one)", "traverse-sketch")
            with gr.Column():
                traverse_test = gr.Dropdown(choices, value=first_of(3), label="or a test digit")
                traverse_steps = gr.Slider(traversals.MIN_STEPS, traversals.MAX_STEPS, value=7, step=1, label="Steps")
                span = gr.Slider(traversals.MIN_SPAN, traversals.MAX_SPAN, value=3, step=0.5, label="From -span to +span")
                traverse_button = gr.Button("Sweep every number", variant="primary")
        traverse_grid = gr.Image(label="One row per latent number, by KL", format="png", interactive=False,
                                 elem_id="digits-traverse")
        traverse_summary = gr.JSON(label="Summary", elem_id="digits-traverse-summary")
    traverse_button.click(on_traverse, [traverse_sketch, traverse_test, traverse_steps, span],
                          [traverse_grid, traverse_summary], api_name="digits_traverse")
