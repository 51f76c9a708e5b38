"""Digits, Draw a digit: where each 2-number model puts your digit, and the 16-number VAE's samples of it."""

import gradio as gr

from latent_lab import imaging
from latent_lab.checks import MAX_SEED
from latent_lab.digits import samples
from latent_lab.digits.framing import READ_SIDE, frame_digit
from latent_lab.digits.yours import your_digit
from latent_lab.streams import on_model_thread
from ui import answers, errors, widgets
from ui.digits.shared import AE_2D, VAE_2D, ink, sketchpad

DRAW_HELP = """
**Draw a digit** (dark on white, as on paper) or upload a picture of one. It is framed as MNIST was made (light ink on
dark, cropped to the ink, fitted in 20×20, centred by mass in 28×28). The maps mark where each 2-number model puts it:
the AE gives one point, the VAE a distribution, drawn as its 1σ and 2σ ellipses in latent units. The row shows the
16-number VAE's decode of μ, then samples z = μ + σ-scale·σ·ε: at σ-scale 1 stroke and shape vary a little and the
digit stays (`keep_label_share`); at 3 some samples turn into other digits. A model you trained (Training → Train now)
shows your digit too: on its map (2 numbers) or as its samples (16 numbers).
"""


@errors.friendly
@answers.remembered
@on_model_thread
def on_draw(drawing, upload, n_samples, sigma_scale, seed, extent="prior"):
    view = samples.drawn_digit_view(ink(drawing, upload), n_samples, sigma_scale, seed, extent)
    return (view.maps.pictures[AE_2D], view.maps.pictures[VAE_2D], view.samples_picture, view.samples,
            view.summary)


def has_digit(drawing, upload):
    return any(picture and frame_digit(imaging.load_image(picture, READ_SIDE)).any() for picture in (drawing, upload))


def on_draw_live(drawing, upload, n_samples, sigma_scale, seed):
    """The same view on each stroke or slider move; nothing at all while there is no digit yet."""
    if not has_digit(drawing, upload):
        return [gr.skip()] * 5
    return on_draw(drawing, upload, n_samples, sigma_scale, seed)


@errors.friendly
@on_model_thread
def on_your_digit(drawing, upload, n_samples, sigma_scale, seed, yours):
    """Your digit in the model this page trained, shown only when there is one (and a digit)."""
    if yours is None:
        return gr.Row(visible=False), gr.skip(), gr.skip()
    if not has_digit(drawing, upload):
        return [gr.skip()] * 3
    picture, summary = your_digit(yours, ink(drawing, upload), n_samples, sigma_scale, seed)
    label = f"{yours.name}: " + ("your digit's μ and σ" if yours.latent_dim == 2 else "decode(μ), then samples")
    return gr.Row(visible=True), gr.Image(picture, label=label), summary


def build(page, yours):
    with gr.Tab("Draw a digit", elem_id="digits-draw-tab", id="digits-draw"):
        gr.Markdown(DRAW_HELP)
        with gr.Row():
            with gr.Column(scale=1):
                drawing = sketchpad("Draw a digit here (pick the brush on the left first)", "digit-sketch")
                upload = widgets.image_input("… or upload a picture of one", height=160)
                n_samples = gr.Slider(1, samples.MAX_SAMPLES, value=8, step=1, label="Samples")
                sigma_scale = gr.Slider(0, samples.MAX_SIGMA_SCALE, value=1, step=0.1, label="σ-scale")
                seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
                draw_button = gr.Button("Encode my digit", variant="primary")
            with gr.Column(scale=2):
                with gr.Row():
                    ae_marked = gr.Image(label=f"{AE_2D}: one point", format="png", interactive=False,
                                         elem_id="ae-marked")
                    vae_marked = gr.Image(label=f"{VAE_2D}: μ with 1σ and 2σ ellipses", format="png",
                                          interactive=False, elem_id="vae-marked")
                samples_row = gr.Image(label="Your digit, decode(μ), then samples of the 16-number VAE",
                                       format="png", interactive=False, elem_id="digit-samples")
        with gr.Row(visible=False) as your_row:
            your_picture = gr.Image(label="yours", format="png", interactive=False, elem_id="your-digit")
            your_summary = gr.JSON(label="Your model", elem_id="your-digit-summary")
        sample_gallery = gr.Gallery(label="The samples alone", columns=8, height="auto", format="png",
                                    elem_classes=["fit-gallery"])
        draw_summary = gr.JSON(label="Summary", elem_id="digits-draw-summary")
    draw_inputs = [drawing, upload, n_samples, sigma_scale, seed]
    draw_outputs = [ae_marked, vae_marked, samples_row, sample_gallery, draw_summary]
    your_event = dict(fn=on_your_digit, inputs=[*draw_inputs, yours], outputs=[your_row, your_picture, your_summary],
                      api_visibility="private", show_progress="hidden")
    draw_button.click(on_draw, draw_inputs, draw_outputs, api_name="digits_draw").then(**your_event)
    # Live on each stroke and slider move: the whole view takes milliseconds.
    for control in (drawing, upload, sigma_scale, n_samples):
        control.change(errors.friendly(on_draw_live), draw_inputs, draw_outputs, api_visibility="private",
                       trigger_mode="always_last", show_progress="hidden").then(**your_event)
    return dict(picture=upload, n_samples=n_samples, sigma_scale=sigma_scale, seed=seed)
