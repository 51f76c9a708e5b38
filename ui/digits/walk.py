"""Digits, Walk: lerp and slerp between two digits through each 16-number model."""

import gradio as gr

from latent_lab.digits import walks
from latent_lab.streams import on_model_thread
from ui import answers, errors
from ui.digits.shared import first_of, ink, sketchpad, test_digit_choices

WALK_HELP = """
**A walk between two digits** through each 16-number model, in a straight line (lerp) and around the sphere (slerp):
every frame is labelled, and the plot shows how clearly each frame is some digit (below the dotted line, 50%, a frame is
no clear digit). Between two test digits a walk stays among digits for every model most of the way, since both ends
are codes the models know; the dip in the middle is where one digit becomes the other. Where the autoencoder fails is
away from its codes, where nothing was trained: see *Prior samples*.
"""


@errors.friendly
@answers.remembered
@on_model_thread
def on_walk(drawing_a, drawing_b, test_a, test_b, steps):
    return walks.walk_view(ink(drawing_a, None, test_a), ink(drawing_b, None, test_b), steps)


def build(page, yours):
    choices = test_digit_choices()
    with gr.Tab("Walk", elem_id="digits-walk-tab", id="digits-walk"):
        gr.Markdown(WALK_HELP)
        with gr.Row():
            walk_a = sketchpad("Digit A (draw, or pick one below)", "walk-sketch-a")
            walk_b = sketchpad("Digit B (draw, or pick one below)", "walk-sketch-b")
            with gr.Column():
                test_a = gr.Dropdown(choices, value=first_of(1), label="A from the test digits")
                test_b = gr.Dropdown(choices, value=first_of(7), label="B from the test digits")
                walk_steps = gr.Slider(walks.MIN_STEPS, walks.MAX_STEPS, value=9, step=1, label="Frames")
                walk_button = gr.Button("Walk from A to B", variant="primary")
        walk_grid = gr.Image(label="Each model, lerp and slerp: every frame labelled", format="png",
                             interactive=False, elem_id="digits-walk")
        with gr.Row():
            walk_plot = gr.Plot(label="How clearly each frame is a digit", show_label=False)
            walk_summary = gr.JSON(label="Summary", elem_id="digits-walk-summary")
    walk_button.click(on_walk, [walk_a, walk_b, test_a, test_b, walk_steps], [walk_grid, walk_plot, walk_summary],
                      api_name="digits_walk")
