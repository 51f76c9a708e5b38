"""Map: the 2-number digits VAE's latent plane (8x8 digits)."""

import gradio as gr

from latent_lab import digits8 as digits
from latent_lab.config import DIGITS_VAE
from ui import common

TITLE, VIEW, ELEM_ID = "Map", "latent_map", "tab-map"

HELP = """
**A map of a latent space.** This VAE squeezes 8×8 handwritten digits into just **two** numbers (z1, z2), so its
whole latent space is a plane you can see. The background decodes a grid of points; the dots are test digits
the model never trained on, placed at their μ and coloured by what digit they are.
Click the map or move the sliders to decode any point; upload a digit you drew to see where it lands.
"""

LABEL_LEGEND = "<div style='display:flex;gap:0.8em;flex-wrap:wrap;font-size:0.9em'>" + "".join(
    f"<span><span style='display:inline-block;width:0.8em;height:0.8em;border-radius:50%;background:{colour};"
    f"border:1px solid #333'></span> {label}</span>" for label, colour in enumerate(digits.LABEL_COLOURS)) + "</div>"


@common.friendly
@common.gpu
def on_latent_map(grid_size, z1, z2, file=None):
    model, test_digits = digits.load_model(DIGITS_VAE), digits.load_test_digits(DIGITS_VAE)
    result = digits.latent_map_view(model, test_digits, str(DIGITS_VAE), grid_size, z1, z2, file)
    return result.map_image, result.picked_image, result.digit_image, result.summary


def on_map_click(grid_size, event: gr.SelectData):
    """A click on the map picks the latent point under the pointer."""
    limit = digits.LATENT_RANGE
    z1, z2 = digits.from_map_pixel(*event.index, int(grid_size))
    return round(min(limit, max(-limit, z1)), 2), round(min(limit, max(-limit, z2)), 2)


def build(page):
    gr.Markdown(HELP)
    with gr.Row():
        with gr.Column(scale=3):
            map_image = gr.Image(label="The latent plane: decodes of a grid of points, test digits on top "
                                 "(click to pick a point)", format="png", interactive=False, elem_id="latent-map")
            gr.HTML(LABEL_LEGEND)
        with gr.Column(scale=2):
            picked_image = gr.Image(label="Decode of the picked point", format="png", interactive=False,
                                    height=256, elem_id="picked-digit")
            z1 = gr.Slider(-digits.LATENT_RANGE, digits.LATENT_RANGE, value=0, step=0.05, label="z1 (across)")
            z2 = gr.Slider(-digits.LATENT_RANGE, digits.LATENT_RANGE, value=0, step=0.05, label="z2 (up)")
            grid_size = gr.Slider(5, 25, value=15, step=1, label="Grid size")
            digit_input = common.image_input("A digit you drew (optional)")
            digit_seen = gr.Image(label="What the model sees (8×8)", format="png", interactive=False, height=128)
            summary = gr.JSON(label="Summary", elem_id="map-summary")
    inputs, outputs = [grid_size, z1, z2, digit_input], [map_image, picked_image, digit_seen, summary]
    event = dict(fn=on_latent_map, inputs=inputs, outputs=outputs)
    page.tab.select(**event, api_name="latent_map")
    for control in (z1, z2, grid_size):
        control.release(**event, api_visibility="private")
    digit_input.change(**event, api_visibility="private")
    map_image.select(on_map_click, grid_size, [z1, z2], api_visibility="private").then(**event, api_visibility="private")
    return dict(grid_size=grid_size, z1=z1, z2=z2, picture=digit_input)
