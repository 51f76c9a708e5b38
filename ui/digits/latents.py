"""Digits, Your own latents: encode a picture with any model of the family, or decode vectors you type."""

import gradio as gr

from latent_lab import imaging
from latent_lab.checks import InputError
from latent_lab.digits import api, models
from latent_lab.digits.framing import READ_SIDE
from latent_lab.streams import on_model_thread
from ui import answers, errors, widgets
from ui.digits.shared import VAE_2D


@errors.friendly
def on_models():
    return api.digits_models()


@errors.friendly
@answers.remembered
@on_model_thread
def on_encode(file, model_name):
    if file is None:
        raise InputError("Upload a picture of a digit.")
    return api.digits_encode(imaging.load_image(file, READ_SIDE), model_name)


@errors.friendly
@answers.remembered
@on_model_thread
def on_decode(model_name, text):
    return api.digits_decode(model_name, text)


def build(page, yours):
    with gr.Tab("Your own latents", elem_id="digits-api-tab", id="digits-api"):
        gr.Markdown("Encode a picture with any model of the family, or decode latent vectors you type "
                    "(JSON: a list of vectors, at most 1,024).")
        family_names = models.names(beta=True)
        with gr.Row():
            encode_upload = widgets.image_input("A digit", height=160)
            encode_model = gr.Dropdown(family_names, value=family_names[1], label="Model")
            encode_button = gr.Button("Encode")
            encode_summary = gr.JSON(label="Summary", elem_id="digits-encode-summary")
        with gr.Row():
            decode_model = gr.Dropdown(family_names, value=VAE_2D, label="Model")
            latents_text = gr.Textbox(value="[[0, 0], [1.5, -0.5], [-2, 1]]", label="Latent vectors (JSON)",
                                      max_length=400_000)
            decode_button = gr.Button("Decode")
        decoded = gr.Gallery(label="Decodes", columns=8, height="auto", format="png", elem_classes=["fit-gallery"])
        decode_summary = gr.JSON(label="Summary", elem_id="digits-decode-summary")
        models_button = gr.Button("List the models", size="sm")
        models_summary = gr.JSON(label="The family", elem_id="digits-models")
    encode_button.click(on_encode, [encode_upload, encode_model], encode_summary, api_name="digits_encode")
    decode_button.click(on_decode, [decode_model, latents_text], [decoded, decode_summary], api_name="digits_decode")
    models_button.click(on_models, None, models_summary, api_name="digits_models")
