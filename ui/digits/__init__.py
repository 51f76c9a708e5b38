"""Digits: the autoencoder-versus-VAE lesson on real handwriting, with models whose whole latent
is one short vector: the map of a 2-number latent, a digit you draw and the VAE's samples of
it, random latents, walks between two digits, what each latent number controls, what the KL
weight does, and how training makes the map. Each sub-view lives in a module of its own; its
build(page, yours) gets the page's State holding the model trained live there (Training → Train
now), which the Map and Draw views use too."""

import gradio as gr

from ui.digits import beta, draw, latents, maps, prior, training, traversals, walk

TITLE, VIEW, ELEM_ID = "Digits: AE vs VAE", "digits", "tab-digits"
SUB_VIEWS = (maps, draw, prior, walk, traversals, beta, training, latents)

HELP = """
Here each picture, a handwritten digit (MNIST), becomes **one short vector**: 2 numbers for the maps, 16 for the rest.
A plain **autoencoder** (AE) maps each digit to one point and nothing asks those points to fill any space. A **VAE**
maps it to a distribution, μ and σ, and its KL term pulls those toward N(0, I). Every claim below is one the pictures
show, with the number that checks it in the summary. Each decode carries the label a small digit classifier gives it
and its confidence ("7 0.94"; "none" when it calls it no digit); a *clear digit* is one it calls a digit 0-9 with at
least 0.5.
"""


def build(page):
    gr.Markdown(HELP)
    fields = {}
    yours = gr.State(None)  # a latent_lab.digits.yours.Yours once this page has trained one
    with gr.Tabs(overflow_behavior="wrap"):  # every sub-view in sight, none in a menu
        for view in SUB_VIEWS:
            fields.update(view.build(page, yours) or {})
    return fields
