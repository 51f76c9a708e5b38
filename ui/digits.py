"""Digits: the autoencoder-versus-VAE lesson on real handwriting, with models whose whole latent
is one short vector: the map of a 2-number latent, a digit you draw and the VAE's samples of
it, random latents, walks between two digits and what each latent number controls."""

import gradio as gr

from latent_lab import imaging, plots
from latent_lab.checks import MAX_SEED, InputError, check_number
from latent_lab.digits import api, maps, models, samples, traversals, walks
from latent_lab.digits.framing import frame_digit
from ui import common

TITLE, VIEW, ELEM_ID = "Digits: AE vs VAE", "digits", "tab-digits"
AE_2D, VAE_2D = models.names(latent_dim=2)

HELP = """
Here each picture, a handwritten digit (MNIST), becomes **one short vector**: 2 numbers for the maps, 16 for the rest.
A plain **autoencoder** (AE) maps each digit to one point and nothing asks those points to fill any space. A **VAE**
maps it to a distribution, μ and σ, and its KL term pulls those toward N(0, I). Every claim below is one the pictures
show, with the number that checks it in the summary. Each decode carries the label a small digit classifier gives it
("7 94%"); a *clear digit* is one it calls a digit 0-9 with at least 50%.
"""

MAP_HELP = """
**The map of a 2-number latent.** Each map decodes a grid of points; the dots are test digits the models never trained
on, at their μ, coloured by label; the yellow rings are N(0, I)'s 1σ, 2σ and 3σ. What to see: the **AE's codes spread
far** (`code_std` about 5: most of them lie outside the rings, over an irregular region), so random latents from
N(0, I) only reach the middle of its map, where some digits never are (`prior_label_mix`: no 1s among them). Its
2-number decoder still draws digit-like shapes almost everywhere, so its "holes" are not blank patches but the places
N(0, I) never reaches. The **VAE packs its codes into the rings** (`code_std` about 1), so N(0, I) lands on nearly every
kind of digit, and nearly every cell inside the rings is a clear digit (`clear_share`). Switch to *each model's own range*
to see all of the AE's codes. Click either map to decode that point.
"""

DRAW_HELP = """
**Draw a digit** (dark on white, as on paper) or upload a picture of one. It is framed as MNIST was made (light ink on
dark, cropped to the ink, fitted in 20×20, centred by mass in 28×28). The maps mark where each 2-number model puts it:
the AE gives one point, the VAE a distribution, drawn as its 1σ and 2σ ellipses in latent units. The row shows the
16-number VAE's decode of μ, then samples z = μ + σ-scale·σ·ε: at σ-scale 1 stroke and shape vary a little and the
digit stays (`keep_label_share`); at 3 some samples turn into other digits.
"""

PRIOR_HELP = """
**Random latents.** The same seeded z ~ N(0, I) decoded by each 16-number model, one row each. The VAE was trained to
fill N(0, I), so most of its random latents decode to clear digits; the AE's decode to smudges that are no digit,
because its codes live somewhere else (the row titles and `digit_likeness`).
"""

WALK_HELP = """
**A walk between two digits** through each 16-number model, in a straight line (lerp) and around the sphere (slerp):
every frame is labelled, and the plot shows how clearly each frame is some digit (below the dotted line, 50%, a frame is
no clear digit). Between two test digits a walk stays among digits for every model most of the way, since both ends
are codes the models know; the dip in the middle is where one digit becomes the other. Where the autoencoder fails is
away from its codes, where nothing was trained: see *Prior samples*.
"""

TRAVERSE_HELP = """
**What does each number control?** Every latent number of the 16-number VAE, from -3 to +3 around the digit's μ, the
others kept. Rows are sorted by that number's KL over the test digits: numbers with a KL near 0 carry nothing (the VAE
switched them off) and their row does not change; the first rows change slant, width, thickness or the digit itself.
"""


class Sketchpad(gr.Sketchpad):
    """A sketchpad that hands the handler the drawing's bytes; a file it names is read only
    from Gradio's upload folder, as for ImageFile."""

    def get_block_name(self):
        return "imageeditor"  # drawn by the browser exactly as gr.Sketchpad

    def preprocess(self, payload):
        if payload is None:
            return None
        if payload.id is not None:
            cached = self.blob_storage.get(payload.id)
            return cached.composite if cached else None
        if payload.composite is None:
            return None
        try:
            return imaging.read_upload(payload.composite.path, [self.GRADIO_CACHE])
        except imaging.ImageError as error:
            raise gr.Error(str(error), print_exception=False) from None


def ink(drawing=None, upload=None, test_index=None):
    """A framed digit (28, 28) in [0, 1]: the drawing, else the upload, else a test digit."""
    for picture in (drawing, upload):
        if picture:
            framed = frame_digit(imaging.load_image(picture))
            if framed.any():
                return framed
    if test_index is None:
        raise InputError("Draw a digit first (dark strokes on white), or upload a picture of one.")
    images, _ = models.test_digits()
    index = check_number(test_index, "Test digit", 0, len(images) - 1, integer=True)
    return images[index] / 255.0


@common.friendly
def on_models():
    return api.digits_models()


@common.friendly
@common.remembered
def on_encode(file, model_name):
    if file is None:
        raise InputError("Upload a picture of a digit.")
    return api.digits_encode(imaging.load_image(file), model_name)


@common.friendly
@common.remembered
def on_decode(model_name, text):
    return api.digits_decode(model_name, text)


@common.friendly
@common.remembered
def on_map(extent):
    if extent not in maps.EXTENTS:
        raise InputError(f"The map shows 'prior' (N(0, I)'s ±3) or 'codes' (each model's own range), not {extent!r}.")
    view = maps.map_view(extent)
    mixes = {name: view.summary[name]["prior_label_mix"] for name in view.pictures}
    return view.pictures[AE_2D], view.pictures[VAE_2D], plots.label_mix_figure(mixes), view.summary


@common.friendly
def on_point(name, z1, z2):
    return maps.decode_point(name, z1, z2)


def on_map_click(name, extent, event: gr.SelectData):
    """A click on a map picks the latent point under the pointer (then decoded by on_point)."""
    z1, z2 = maps.click_to_latent(name, *event.index, extent=extent)
    return name, round(z1, 2), round(z2, 2)


@common.friendly
@common.remembered
def on_draw(drawing, upload, n_samples, sigma_scale, seed, extent="prior"):
    view = samples.drawn_digit_view(ink(drawing, upload), n_samples, sigma_scale, seed, extent)
    return (view.maps.pictures[AE_2D], view.maps.pictures[VAE_2D], view.samples_picture, view.samples,
            view.summary)


def on_draw_live(drawing, upload, n_samples, sigma_scale, seed):
    """The same view on each stroke or slider move; nothing at all while there is no digit yet."""
    if not any(picture and frame_digit(imaging.load_image(picture)).any() for picture in (drawing, upload)):
        return [gr.skip()] * 5
    return on_draw(drawing, upload, n_samples, sigma_scale, seed)


@common.friendly
@common.remembered
def on_prior(n_samples, seed):
    return samples.prior_samples_view(n_samples, seed)


@common.friendly
@common.remembered
def on_walk(drawing_a, drawing_b, test_a, test_b, steps):
    return walks.walk_view(ink(drawing_a, None, test_a), ink(drawing_b, None, test_b), steps)


@common.friendly
@common.remembered
def on_traverse(drawing, test_index, steps, span):
    return traversals.traversal_view(ink(drawing, None, test_index), steps, span)


def test_digit_choices():
    """(name, index) of every shipped test digit, for the walk's and traversal's menus."""
    _, labels = models.test_digits()
    return [(f"#{index}: a {label}", index) for index, label in enumerate(labels.tolist())]


def first_of(label):
    """The index of the first shipped test digit with this label."""
    return int(models.test_digits()[1].tolist().index(label))


def sketchpad(label, elem_id):
    return Sketchpad(label=label, type="filepath", height=340, canvas_size=(280, 280), fixed_canvas=True,
                     layers=False, transforms=(), elem_id=elem_id,
                     brush=gr.Brush(colors=["#000000"], default_size=18, color_mode="fixed"))


def build(page):
    gr.Markdown(HELP)
    choices = test_digit_choices()
    with gr.Tabs():
        with gr.Tab("Map", elem_id="digits-map-tab", id="digits-map") as map_tab:
            gr.Markdown(MAP_HELP)
            extent = gr.Radio([("N(0, I)'s ±3", "prior"), ("each model's own range", "codes")], value="prior",
                              label="Show")
            with gr.Row():
                ae_map = gr.Image(label=f"{AE_2D}: a plain autoencoder", format="png", interactive=False,
                                  elem_id="ae-map")
                vae_map = gr.Image(label=f"{VAE_2D}: a VAE", format="png", interactive=False, elem_id="vae-map")
            with gr.Row():
                mix_plot = gr.Plot(label="Prior samples by label", show_label=False)
                map_summary = gr.JSON(label="Summary", elem_id="digits-map-summary")
            with gr.Row():
                point_model = gr.Radio([AE_2D, VAE_2D], value=VAE_2D, label="Decode a point of")
                z1 = gr.Slider(-10, 10, value=0, step=0.05, label="z1 (across)")
                z2 = gr.Slider(-10, 10, value=0, step=0.05, label="z2 (up)")
            with gr.Row():
                point_picture = gr.Image(label="Decode of the point", format="png", interactive=False, height=224,
                                         elem_id="digits-point")
                point_summary = gr.JSON(label="Summary", elem_id="digits-point-summary")
        map_event = dict(fn=on_map, inputs=extent, outputs=[ae_map, vae_map, mix_plot, map_summary])
        map_tab.select(**map_event, api_name="digits_map")
        page.tab.select(**map_event, api_visibility="private")
        extent.change(**map_event, api_visibility="private")
        point_event = dict(fn=on_point, inputs=[point_model, z1, z2], outputs=[point_picture, point_summary])
        for control in (z1, z2):
            control.release(**point_event, api_visibility="private")
        for name, picture in ((AE_2D, ae_map), (VAE_2D, vae_map)):
            picture.select(on_map_click, [gr.State(name), extent], [point_model, z1, z2],
                           api_visibility="private").then(**point_event, api_visibility="private")

        with gr.Tab("Draw a digit", elem_id="digits-draw-tab", id="digits-draw"):
            gr.Markdown(DRAW_HELP)
            with gr.Row():
                with gr.Column(scale=1):
                    drawing = sketchpad("Draw a digit here (pick the brush on the left first)", "digit-sketch")
                    upload = common.image_input("… or upload a picture of one", height=160)
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
            sample_gallery = gr.Gallery(label="The samples alone", columns=8, height="auto", format="png",
                                        elem_classes=["fit-gallery"])
            draw_summary = gr.JSON(label="Summary", elem_id="digits-draw-summary")
        draw_inputs = [drawing, upload, n_samples, sigma_scale, seed]
        draw_outputs = [ae_marked, vae_marked, samples_row, sample_gallery, draw_summary]
        draw_button.click(on_draw, draw_inputs, draw_outputs, api_name="digits_draw")
        # Live on each stroke and slider move: the whole view takes milliseconds.
        for control in (drawing, upload, sigma_scale, n_samples):
            control.change(common.friendly(on_draw_live), draw_inputs, draw_outputs, api_visibility="private",
                           trigger_mode="always_last", show_progress="hidden")

        with gr.Tab("Prior samples", elem_id="digits-prior-tab", id="digits-prior"):
            gr.Markdown(PRIOR_HELP)
            with gr.Row():
                prior_count = gr.Slider(1, 32, value=12, step=1, label="Samples per model")
                prior_seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
                prior_button = gr.Button("Decode random latents", variant="primary")
            prior_grid = gr.Image(label="z ~ N(0, I), one row per model", format="png", interactive=False,
                                  elem_id="digits-prior")
            prior_summary = gr.JSON(label="Summary", elem_id="digits-prior-summary")
        prior_button.click(on_prior, [prior_count, prior_seed], [prior_grid, prior_summary], api_name="digits_prior")

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

        with gr.Tab("Traversals", elem_id="digits-traverse-tab", id="digits-traverse"):
            gr.Markdown(TRAVERSE_HELP)
            with gr.Row():
                traverse_sketch = sketchpad("A digit (draw, or pick one)", "traverse-sketch")
                with gr.Column():
                    traverse_test = gr.Dropdown(choices, value=first_of(3), label="or a test digit")
                    traverse_steps = gr.Slider(walks.MIN_STEPS, walks.MAX_STEPS, value=7, step=1, label="Steps")
                    span = gr.Slider(0.5, traversals.MAX_SPAN, value=3, step=0.5, label="From -span to +span")
                    traverse_button = gr.Button("Sweep every number", variant="primary")
            traverse_grid = gr.Image(label="One row per latent number, by KL", format="png", interactive=False,
                                     elem_id="digits-traverse")
            traverse_summary = gr.JSON(label="Summary", elem_id="digits-traverse-summary")
        traverse_button.click(on_traverse, [traverse_sketch, traverse_test, traverse_steps, span],
                              [traverse_grid, traverse_summary], api_name="digits_traverse")

        with gr.Tab("Your own latents", elem_id="digits-api-tab", id="digits-api"):
            gr.Markdown("Encode a picture with any model of the family, or decode latent vectors you type "
                        "(JSON: a list of vectors, at most 1,024).")
            family_names = models.names()
            with gr.Row():
                encode_upload = common.image_input("A digit", height=160)
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
    return dict(picture=upload, n_samples=n_samples, sigma_scale=sigma_scale, seed=seed)
