"""Latent Lab: a Gradio app for exploring the latent space of a variational autoencoder.

Run `python app.py` and open the printed address. Handlers here only read widgets, call
latent_lab and hand back pictures, figures and JSON summaries.
"""

from functools import partial, wraps
import hashlib
import inspect
import os
import random
import tempfile
from pathlib import Path

import gradio as gr

from latent_lab import digits8 as digits, generate, imaging, lab, lessons, models, vae as vae_ops
from latent_lab.config import DIGITS_VAE, EXAMPLES, Settings

settings = Settings.from_env()
EXAMPLE_IMAGES = sorted(str(p) for p in EXAMPLES.glob("*.jpg"))
EXAMPLE_PAIRS = [EXAMPLE_IMAGES[i:i + 2] for i in range(0, len(EXAMPLE_IMAGES) - 1, 2)]
# ImageError and InputError are ValueErrors: bad input, told in the user's terms.
EXPECTED_ERRORS = (ValueError, models.ModelUnavailableError, generate.GenerationError)


class ImageFile(gr.Image):
    """An image input that hands the handler the uploaded file untouched, so that our own
    loader (imaging.load_image) checks it and answers a bad file with a clear sentence."""

    is_template = True  # drawn by the browser exactly as gr.Image

    def preprocess(self, payload):
        return None if payload is None else payload.path


def friendly(handler):
    """Turn our own exceptions into gr.Error, whose sentence the user sees."""
    if inspect.isgeneratorfunction(handler):
        @wraps(handler)
        def streaming(*args, **kwargs):
            try:
                yield from handler(*args, **kwargs)
            except EXPECTED_ERRORS as error:
                raise gr.Error(str(error), print_exception=False) from error
        return streaming

    @wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except EXPECTED_ERRORS as error:
            raise gr.Error(str(error), print_exception=False) from error
    return wrapped


def gpu_decorator():
    """`spaces.GPU` where the `spaces` package is installed (ZeroGPU hardware on Hugging Face
    Spaces, which lends a GPU to one call at a time); elsewhere handlers run as they are."""
    try:
        import spaces
    except ImportError:
        return lambda handler: handler
    return spaces.GPU


gpu = gpu_decorator()  # on every handler that runs a model


def vae(name=None):
    """The chosen VAE (default: LATENT_LAB_VAE's) and its source, loaded once."""
    choices = settings.vae_choices()
    name = name or settings.vae_name
    if name not in choices:
        raise lab.InputError(f"Unknown model {name!r}. Choose one of: {', '.join(choices)}.")
    return models.load_vae(choices[name]), choices[name]


def pipe():
    return models.load_pipeline(settings.pipeline)


def write_animation(pictures, suffix, save):
    """Save frames with `save(pictures, path)` under a name made from their content (repeats
    reuse the file), in a temp folder that keeps the newest 50 of each kind."""
    folder = Path(tempfile.gettempdir()) / "latent-lab"
    folder.mkdir(exist_ok=True)
    digest = hashlib.sha256(b"".join(p.tobytes() for p in pictures)).hexdigest()[:20]
    path = folder / f"path-{digest}{suffix}"
    if not path.exists():
        for old in sorted(folder.glob(f"*{suffix}"), key=os.path.getmtime)[:-50]:
            old.unlink(missing_ok=True)
        partial = folder / f"{digest}-{os.getpid()}-{random.getrandbits(32)}.part{suffix}"
        save(pictures, partial)
        os.replace(partial, path)  # atomic: a concurrent request never sees half a file
    return str(path)


def write_gif(pictures):
    return write_animation(pictures, ".gif", lambda frames, path: lab.save_gif(frames, path, format="GIF"))


def write_video(pictures):
    return write_animation(pictures, ".mp4", lessons.save_mp4)


@friendly
@gpu
def on_encode(file, model=None):
    result = lab.encode_view(*vae(model), file, settings.max_side)
    return result.reconstruction, result.posterior_plot, result.summary


@friendly
@gpu
def on_sample(file, n_samples, sigma_scale, seed, model=None):
    result = lab.sample_view(*vae(model), file, n_samples, sigma_scale, seed, settings.max_side)
    return result.samples, result.pixel_std_plot, result.summary


@friendly
@gpu
def on_interpolate(file_a, file_b, steps, method, model=None):
    result = lab.interpolate_view(*vae(model), file_a, file_b, steps, method, settings.max_side)
    return result.frames, write_gif(result.frames), result.norm_plot, result.summary


@friendly
@gpu
def on_channels(file, model=None):
    result = lab.channels_view(*vae(model), file, settings.max_side)
    return result.channels_plot, result.histogram_plot, result.summary


@friendly
@gpu
def on_compare(file_a, file_b, steps, seed):
    named = [(name, vae(name)[0]) for name in settings.vae_choices()]
    result = lab.compare_view(named, file_a, file_b, steps, seed)
    return result.rows, result.change_plot, result.summary


def parse_region(text):
    """'top, left, bottom, right' in latent cells, or None for an empty box."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return [int(part) for part in text.replace(";", ",").split(",")]
    except ValueError:
        raise lab.InputError(f"Region must be four whole numbers 'top, left, bottom, right'; got {text!r}.") from None


@friendly
@gpu
def on_traverse(file, channel, low, high, steps, unit, region, model=None):
    result = lessons.traverse_view(*vae(model), file, channel, low, high, steps, unit, parse_region(region),
                                   settings.max_side)
    return (result.frames, write_gif(result.frames), write_video(result.frames), result.change_plot,
            result.summary)


@friendly
@gpu
def on_three_ways(file_a, file_b, steps, model=None):
    result = lessons.three_ways_view(*vae(model), file_a, file_b, steps, settings.max_side)
    return result.rows, result.norm_plot, result.summary


@friendly
@gpu
def on_interpolate_video(file_a, file_b, steps, method, model=None):
    result = lab.interpolate_view(*vae(model), file_a, file_b, steps, method, settings.max_side)
    return write_video(result.frames)


@friendly
@gpu
def on_arithmetic(file_a, file_b, file_c, strength, model=None):
    result = lessons.arithmetic_view(*vae(model), file_a, file_b, file_c, strength, settings.max_side)
    return result.result, result.reconstructions, result.summary


@friendly
@gpu
def on_compare_schedulers(prompt, names, steps, guidance_scale, seed):
    result = lessons.compare_schedulers(pipe(), prompt, names, steps, guidance_scale, seed,
                                        lab.model_name(settings.pipeline))
    return result.gallery, result.summary


@friendly
def on_anatomy():
    return lessons.anatomy(pipe())


def write_text(text, name):
    """Save text under a name made from its content, in the app's temp folder."""
    folder = Path(tempfile.gettempdir()) / "latent-lab"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
    path.write_text(text)
    return str(path)


@friendly
def on_save_lesson(layout, view, model, *values):
    """The open tab's inputs (pictures included) as one lesson file."""
    chosen = [(name, is_picture, value) for (v, name, is_picture), value in zip(layout, values) if v == view]
    pictures = {name: imaging.load_image(value) for name, is_picture, value in chosen if is_picture and value}
    lesson_settings = {name: value for name, is_picture, value in chosen if not is_picture}
    if view not in ("generate", "latent_map"):
        lesson_settings["model"] = model
    text = lessons.save_lesson(view, lesson_settings, pictures)
    return write_text(text, f"lesson-{view}"), f"Saved the **{view}** tab's settings and {len(pictures)} picture(s)."


@friendly
def on_open_lesson(layout, file):
    """Fill the lesson's tab with its settings and pictures, and open that tab."""
    if file is None:
        return [gr.update()] * (len(layout) + 4)
    view, lesson_settings, pictures = lessons.load_lesson(Path(file).read_bytes())
    folder = Path(tempfile.gettempdir()) / "latent-lab"
    folder.mkdir(exist_ok=True)
    updates = []
    for v, name, is_picture in layout:
        if v != view:
            updates.append(gr.update())
        elif is_picture:
            picture = pictures.get(name)
            path = folder / f"lesson-{hashlib.sha256(picture.tobytes()).hexdigest()[:16]}.png" if picture else None
            if picture:
                picture.save(path)
            updates.append(str(path) if path else None)
        else:
            updates.append(lesson_settings.get(name, gr.update()))
    model = lesson_settings.get("model")
    model_update = model if model in settings.vae_choices() else gr.update()
    message = f"Opened a lesson for the **{view}** tab: press its button to run it."
    return [gr.Tabs(selected=view), view, model_update, *updates, message]


def digits_model():
    return digits.load_model(DIGITS_VAE), digits.load_test_digits(DIGITS_VAE)


@friendly
@gpu
def on_latent_map(grid_size, z1, z2, file=None):
    model, test_digits = digits_model()
    result = lab.latent_map_view(model, test_digits, str(DIGITS_VAE), grid_size, z1, z2, file)
    return result.map_image, result.picked_image, result.digit_image, result.summary


def on_map_click(grid_size, event: gr.SelectData):
    """A click on the map picks the latent point under the pointer."""
    limit = digits.LATENT_RANGE
    z1, z2 = digits.from_map_pixel(*event.index, int(grid_size))
    return round(min(limit, max(-limit, z1)), 2), round(min(limit, max(-limit, z2)), 2)


@friendly
def on_schedulers():
    names = list(generate.scheduler_classes(pipe()))
    return gr.Dropdown(choices=names, value=generate.default_scheduler(pipe())), {"schedulers": names}


@friendly
def on_scheduler_choices():
    names = list(generate.scheduler_classes(pipe()))
    preferred = [name for name in ("DDIMScheduler", "EulerDiscreteScheduler", "DPMSolverMultistepScheduler") if name in names]
    return gr.Dropdown(choices=names, value=preferred or names[:3])


@friendly
@gpu
def on_generate(prompt, negative_prompt, scheduler, steps, guidance_scale, seed, progress=gr.Progress()):
    request = generate.Request(prompt, negative_prompt, scheduler, steps, guidance_scale, seed)
    for kind, picture, extra in generate.stream(pipe(), request, lab.model_name(settings.pipeline)):
        if kind == "preview":
            progress(extra / request.steps, desc=f"denoising: step {extra} of {request.steps}")
            yield picture, {"status": f"step {extra} of {request.steps}"}
        else:
            yield picture, extra


def random_seed():
    return random.randint(0, 2**31 - 1)


def model_line():
    try:
        model, _ = vae()
    except models.ModelUnavailableError as error:
        return f"**Model problem:** {error}"
    config = model.config
    return (f"Default VAE: **{settings.vae_name}**, {models.parameter_count(model) / 1e6:.1f} M parameters, "
            f"{config.latent_channels} latent channels at 1/{vae_ops.scale_factor(model)} of the picture's size.")


INTRO = """
# Latent Lab
A **variational autoencoder** (VAE) squeezes a picture into a small grid of numbers, its *latent*,
and a decoder turns the latent back into a picture. A plain autoencoder maps each picture to one
point. A VAE maps it to a **distribution**: a mean **μ** and a spread **σ** for every latent cell.
During training a KL term pulls these distributions toward N(0, 1), which is why nearby latents
decode to similar pictures and why you can walk smoothly from one picture to another.
"""

ENCODE_HELP = """
**What you see.** The reconstruction is the decoder's picture of μ. The maps show μ (top) and
σ (bottom) for each of the latent channels; each cell stands for an 8×8 patch of pixels.
Where σ is small the encoder is sure; where it is large, many latents would do.
*PSNR* measures how close the reconstruction is (higher is closer; 30 dB looks near-identical).
*KL per dim* is how far the posterior is from N(0, 1): the price the VAE pays to keep its space smooth.
"""

SAMPLE_HELP = """
**What you see.** Each picture decodes a different draw **z = μ + σ-scale · σ · ε**, with ε ~ N(0, 1).
At σ-scale 0 every sample is the reconstruction; raise it and the pictures start to differ, mostly at
edges and in textures, where the encoder is least sure. The left map shows how much each pixel varies
across the samples; the right one how far the samples land from the reconstruction, |decode(z) − decode(μ)|.
A well-trained VAE with a small KL weight (Stable Diffusion's among them) has a tiny σ: its samples look the
same until you raise the σ-scale. The same seed always gives the same samples.
"""

INTERPOLATE_HELP = """
**What you see.** The two pictures are encoded to latents z_A and z_B, and the frames decode points
on a path between them. **lerp** walks the straight line; **slerp** walks around the sphere, keeping
‖z‖ close to that of the ends. The plot shows ‖z‖ along both paths: lerp sags in the middle, where
latents are shorter than typical ones. Because the KL term makes the latent space continuous, every
frame is a plausible picture, not a ghostly double exposure. Picture B is cropped to A's size.
"""

CHANNELS_HELP = """
**What you see.** Stable Diffusion's VAE keeps 4 latent channels at 1/8 of the picture's width and
height. Each channel is drawn on the same colour scale, so you can compare them. The histogram puts
all the latent values beside the N(0, 1) curve the KL term pulls them toward; the latents are
scaled by the model's `scaling_factor` so that, over the training data, they have unit variance.
"""

GENERATE_HELP = """
**Text to image.** A diffusion model starts from pure noise *in the VAE's latent space* and removes
a little of it at each step, steered by your prompt; the VAE's decoder then turns the final latent
into a picture. The previews decode the latent every few steps, so you can watch noise become a
picture. The **scheduler** decides how big each step is: same seed, different scheduler, a
different path. The embedded model was trained here on simple scenes (coloured shapes on plain
backgrounds) and its VAE is the very one you explore in the other tabs.
"""

TRAVERSE_HELP = """
**What does one latent channel do?** Take the picture's μ, add a growing offset to one channel (in every cell, or
only in a box of cells), and decode each step. Offsets are counted in the channel's own **spread** (how much μ
varies across the picture) or in each cell's **σ**. A few σ barely changes anything: that is the posterior's
uncertainty, the room the VAE leaves for noise. A few spreads changes colour or brightness in a way you can name.
"""

ARITHMETIC_HELP = """
**Arithmetic with latents.** Encode three pictures and decode **z(A) + strength · (z(C) − z(B))**: take from A what
B has, add what C has. Because this VAE's latent is a *spatial* grid, the arithmetic happens cell by cell. In the
first example row, C − B is "red turned green", learnt on a yellow background: added to A, it turns A's red circle
green and leaves its blue background alone. In the second, C − B is "white turned black" behind the star. Strength 0
gives A back; negative strengths go the other way.
"""

THREE_WAYS_HELP = """
A **crossfade** blends the pixels: the middle frame is a double exposure, and the encoder places it off the path
that latents take (its ‖z‖ curve). **lerp** and **slerp** walk between the latents and decode each point, so every
frame is the decoder's picture; slerp keeps ‖z‖ where typical latents live.
"""

ANATOMY_HELP = """
A diffusion pipeline is a few parts working together: a **tokenizer** cuts the prompt into tokens, the **text encoder**
turns them into vectors, the **UNet** predicts the noise in a latent given those vectors, the **scheduler** decides how
much noise to remove at each step, and the **VAE** decodes the final latent into a picture.
"""

LESSON_HELP = """
A **lesson file** keeps one tab's demo: its pictures, seeds and settings, and the model. Save it before class,
open it in front of the students, press the tab's button, and the same demo plays again.
"""

MODEL_HELP = ("latent-lab-ae: a plain autoencoder (no KL, no σ); latent-lab-vae: the default VAE; "
              "latent-lab-vae-strong-kl: a VAE pulled hard toward N(0, 1).")

COMPARE_HELP = """
**Autoencoder vs VAE.** The same pictures go through each model of the family: a plain **autoencoder**
(no KL term: each picture is one point, and nothing asks the points to fill the space), the default **VAE**,
and a VAE with a **strong KL** term. Each row walks in a straight line from A's latent to B's, then decodes
four random latents z ~ N(0, I), the prior. Watch two things: does the path change the picture evenly
(the plot; a spike is a hole the path crosses), and do random latents decode to something picture-like?
The price of a smooth, filled space is a blurrier reconstruction: compare the dB figures.
"""

MAP_HELP = """
**A map of a latent space.** This VAE squeezes 8×8 handwritten digits into just **two** numbers (z1, z2), so its
whole latent space is a plane you can see. The background decodes a grid of points; the dots are test digits
the model never trained on, placed at their μ and coloured by what digit they are. Because the KL term packs
everything near N(0, 1), the plane has no empty holes: walk in any direction and one digit morphs into the next.
Click the map or move the sliders to decode any point; upload a digit you drew to see where it lands.
"""

SCENE_TRIPLES = [[str(EXAMPLES / "scenes" / f"{name}.png") for name in triple] for triple in (
    ("red-circle-on-blue", "red-circle-on-yellow", "green-circle-on-yellow"),
    ("blue-star-on-white", "yellow-star-on-white", "yellow-star-on-black"))]

LABEL_LEGEND = "<div style='display:flex;gap:0.8em;flex-wrap:wrap;font-size:0.9em'>" + "".join(
    f"<span><span style='display:inline-block;width:0.8em;height:0.8em;border-radius:50%;background:{colour};"
    f"border:1px solid #333'></span> {label}</span>" for label, colour in enumerate(digits.LABEL_COLOURS)) + "</div>"

GENERATE_EXAMPLES = ["a red circle on a blue background", "two small yellow stars at the top on a black background",
                     "a big green triangle on the left on a white background", "three pink squares on a cyan background"]


def image_input(label):
    return ImageFile(label=label, type="filepath", sources=["upload", "clipboard"], height=300)


def picture_and_button(action):
    """A picture input, the button that acts on it, and the example photos below them."""
    picture = image_input("Your picture")
    button = gr.Button(action, variant="primary")
    gr.Examples(EXAMPLE_IMAGES, inputs=picture)
    return picture, button


def rows_plot_summary(label, plot_label, elem_id, summary_id=None):
    """A one-column gallery of captioned strips, with a plot and a JSON summary beside each other below it."""
    rows = gr.Gallery(label=label, columns=1, height="auto", format="png", elem_id=elem_id,
                      elem_classes=["fit-gallery", "strips"])
    with gr.Row():
        plot = gr.Plot(label=plot_label, show_label=False)
        summary = gr.JSON(label="Summary", elem_id=summary_id or f"{elem_id}-summary")
    return rows, plot, summary


def build_app():
    cleanup = (min(600, settings.cache_seconds), settings.cache_seconds)  # (how often, how old)
    with gr.Blocks(title="Latent Lab", delete_cache=cleanup) as demo:
        gr.Markdown(INTRO)
        with gr.Row(equal_height=True):
            model = gr.Dropdown(list(settings.vae_choices()), value=settings.vae_name, label="VAE used by the picture tabs",
                                info=MODEL_HELP, scale=2, elem_id="model")
            gr.Markdown(model_line())
        # The choice lives in the session, so API callers need not send it (they get the default).
        chosen_model = gr.State(settings.vae_name)
        model.change(lambda name: name, model, chosen_model, api_visibility="private")
        with gr.Tabs() as tabs:
            with gr.Tab("Encode", id="encode", elem_id="tab-encode") as encode_tab:
                with gr.Row():
                    with gr.Column(scale=1):
                        encode_input, encode_button = picture_and_button("Encode")
                    with gr.Column(scale=1):
                        reconstruction = gr.Image(label="Reconstruction (decoded μ)", height=300, interactive=False, format="png",
                                                  elem_id="reconstruction")
                        encode_summary = gr.JSON(label="Summary", elem_id="encode-summary")
                posterior_plot = gr.Plot(label="μ and σ per latent cell", show_label=False)
                gr.Markdown(ENCODE_HELP)
                encode_button.click(on_encode, [encode_input, chosen_model], [reconstruction, posterior_plot, encode_summary], api_name="encode")

            with gr.Tab("Sample", id="sample", elem_id="tab-sample") as sample_tab:
                with gr.Row():
                    with gr.Column(scale=1):
                        sample_input = image_input("Your picture")
                        n_samples = gr.Slider(1, 16, value=8, step=1, label="Number of samples")
                        sigma_scale = gr.Slider(0, 10, value=1, step=0.1, label="σ-scale (0 = always μ)")
                        seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=lab.MAX_SEED)
                        sample_button = gr.Button("Draw samples", variant="primary")
                        gr.Examples(EXAMPLE_IMAGES, inputs=sample_input)
                    with gr.Column(scale=2):
                        samples = gr.Gallery(label="Decoded samples z = μ + σ·ε", columns=4, height=420, format="png", elem_id="samples")
                        pixel_std_plot = gr.Plot(label="Where the samples differ", show_label=False)
                        sample_summary = gr.JSON(label="Summary", elem_id="sample-summary")
                gr.Markdown(SAMPLE_HELP)
                sample_button.click(on_sample, [sample_input, n_samples, sigma_scale, seed, chosen_model],
                                    [samples, pixel_std_plot, sample_summary], api_name="sample")

            with gr.Tab("Interpolate", id="interpolate", elem_id="tab-interpolate") as interpolate_tab:
                with gr.Row():
                    image_a = image_input("Picture A")
                    image_b = image_input("Picture B")
                    with gr.Column():
                        steps = gr.Slider(2, 32, value=8, step=1, label="Frames")
                        method = gr.Radio(["lerp", "slerp"], value="slerp", label="Path")
                        interpolate_button = gr.Button("Interpolate", variant="primary")
                gr.Examples(EXAMPLE_PAIRS, inputs=[image_a, image_b])
                frames = gr.Gallery(label="Frames from A to B", columns=8, height="auto", format="png", elem_id="frames",
                                    elem_classes=["fit-gallery"])
                with gr.Row():
                    animation = gr.Image(label="Animation", height=300, interactive=False, elem_id="animation")
                    norm_plot = gr.Plot(label="‖z‖ along the path", show_label=False)
                    interpolate_summary = gr.JSON(label="Summary", elem_id="interpolate-summary")
                gr.Markdown(INTERPOLATE_HELP)
                interpolate_inputs = [image_a, image_b, steps, method, chosen_model]
                interpolate_button.click(on_interpolate, interpolate_inputs,
                                         [frames, animation, norm_plot, interpolate_summary], api_name="interpolate")
                with gr.Row():
                    video_button = gr.Button("Save the path as MP4", size="sm")
                    video_file = gr.File(label="Video", elem_id="interpolate-video")
                video_button.click(on_interpolate_video, interpolate_inputs, video_file, api_name="interpolate_video")
                with gr.Accordion("Three ways from A to B: lerp, slerp and a pixel crossfade", open=False):
                    gr.Markdown(THREE_WAYS_HELP)
                    three_ways_button = gr.Button("Compare the three ways", variant="secondary")
                    three_ways_rows, three_ways_plot, three_ways_summary = rows_plot_summary(
                        "Each way from A to B", "‖z‖ along each way", "three-ways")
                three_ways_button.click(on_three_ways, [image_a, image_b, steps, chosen_model],
                                        [three_ways_rows, three_ways_plot, three_ways_summary], api_name="three_ways")

            with gr.Tab("Channels", id="channels", elem_id="tab-channels") as channels_tab:
                with gr.Row():
                    with gr.Column(scale=1):
                        channels_input, channels_button = picture_and_button("Show channels")
                    with gr.Column(scale=2):
                        histogram_plot = gr.Plot(label="Latent values against N(0, 1)", show_label=False)
                        channels_summary = gr.JSON(label="Summary", elem_id="channels-summary")
                channels_plot = gr.Plot(label="Latent channels", show_label=False, elem_id="channels-plot")
                gr.Markdown(CHANNELS_HELP)
                channels_button.click(on_channels, [channels_input, chosen_model], [channels_plot, histogram_plot, channels_summary],
                                      api_name="channels")

            with gr.Tab("Traverse", id="traverse", elem_id="tab-traverse") as traverse_tab:
                gr.Markdown(TRAVERSE_HELP)
                with gr.Row():
                    with gr.Column(scale=1):
                        traverse_input = image_input("Your picture")
                        gr.Examples(EXAMPLE_IMAGES, inputs=traverse_input)
                    with gr.Column(scale=1):
                        channel = gr.Slider(0, 15, value=0, step=1, label="Latent channel")
                        with gr.Row():
                            low = gr.Slider(-10, 10, value=-3, step=0.5, label="From")
                            high = gr.Slider(-10, 10, value=3, step=0.5, label="To")
                        traverse_steps = gr.Slider(2, 16, value=7, step=1, label="Frames")
                        unit = gr.Radio([("the channel's spread", "spread"), ("σ of each cell", "sigma")],
                                        value="spread", label="Step in units of")
                        region = gr.Textbox(label="Only these cells (optional): top, left, bottom, right",
                                            placeholder="e.g. 0, 0, 16, 16 (empty: the whole channel)")
                        traverse_button = gr.Button("Traverse", variant="primary")
                traverse_frames = gr.Gallery(label="Decodes along the channel", columns=8, height="auto", format="png",
                                             elem_id="traverse-frames", elem_classes=["fit-gallery"])
                with gr.Row():
                    traverse_animation = gr.Image(label="Animation", height=260, interactive=False)
                    traverse_plot = gr.Plot(label="Change from the reconstruction", show_label=False)
                    with gr.Column():
                        traverse_video = gr.File(label="Video (MP4)")
                        traverse_summary = gr.JSON(label="Summary", elem_id="traverse-summary")
                traverse_event = dict(fn=on_traverse, inputs=[traverse_input, channel, low, high, traverse_steps, unit, region,
                                                              chosen_model],
                                      outputs=[traverse_frames, traverse_animation, traverse_video, traverse_plot, traverse_summary])
                traverse_button.click(**traverse_event, api_name="traverse")

            with gr.Tab("Arithmetic", id="arithmetic", elem_id="tab-arithmetic") as arithmetic_tab:
                gr.Markdown(ARITHMETIC_HELP)
                with gr.Row():
                    arithmetic_a = image_input("A")
                    arithmetic_b = image_input("B (take away)")
                    arithmetic_c = image_input("C (add)")
                with gr.Row():
                    strength = gr.Slider(-3, 3, value=1, step=0.1, label="Strength of C − B")
                    arithmetic_button = gr.Button("Compute A + strength · (C − B)", variant="primary")
                gr.Examples(SCENE_TRIPLES + [EXAMPLE_IMAGES[:3]], inputs=[arithmetic_a, arithmetic_b, arithmetic_c])
                with gr.Row():
                    arithmetic_result = gr.Image(label="Decode of A + strength · (C − B)", format="png", height=300,
                                                 interactive=False, elem_id="arithmetic-result")
                    arithmetic_parts = gr.Gallery(label="Reconstructions of A, B and C", columns=3, height=300, format="png")
                    arithmetic_summary = gr.JSON(label="Summary", elem_id="arithmetic-summary")
                arithmetic_button.click(on_arithmetic, [arithmetic_a, arithmetic_b, arithmetic_c, strength, chosen_model],
                                        [arithmetic_result, arithmetic_parts, arithmetic_summary], api_name="arithmetic")

            with gr.Tab("AE vs VAE", id="compare", elem_id="tab-compare") as compare_tab:
                gr.Markdown(COMPARE_HELP)
                with gr.Row():
                    compare_a = image_input("Picture A")
                    compare_b = image_input("Picture B")
                    with gr.Column():
                        compare_steps = gr.Slider(2, 16, value=8, step=1, label="Frames")
                        compare_seed = gr.Number(0, label="Seed for the prior's z", precision=0, minimum=0, maximum=lab.MAX_SEED)
                        compare_button = gr.Button("Compare the models", variant="primary")
                gr.Examples(EXAMPLE_PAIRS, inputs=[compare_a, compare_b])
                compare_rows, change_plot, compare_summary = rows_plot_summary(
                    "Per model: the path from A to B, then decodes of random z ~ N(0, I)", "Smoothness of each path",
                    "compare-rows", summary_id="compare-summary")
                compare_button.click(on_compare, [compare_a, compare_b, compare_steps, compare_seed],
                                     [compare_rows, change_plot, compare_summary], api_name="compare")

            with gr.Tab("Map", id="latent_map", elem_id="tab-map") as map_tab:
                gr.Markdown(MAP_HELP)
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
                        digit_input = image_input("A digit you drew (optional)")
                        digit_seen = gr.Image(label="What the model sees (8×8)", format="png", interactive=False, height=128)
                        map_summary = gr.JSON(label="Summary", elem_id="map-summary")
                map_inputs, map_outputs = [grid_size, z1, z2, digit_input], [map_image, picked_image, digit_seen, map_summary]
                map_event = dict(fn=on_latent_map, inputs=map_inputs, outputs=map_outputs)
                map_tab.select(**map_event, api_name="latent_map")
                for control in (z1, z2, grid_size):
                    control.release(**map_event, api_visibility="private")
                digit_input.change(**map_event, api_visibility="private")
                map_image.select(on_map_click, grid_size, [z1, z2], api_visibility="private").then(**map_event, api_visibility="private")

            with gr.Tab("Generate", id="generate", elem_id="tab-generate") as generate_tab:
                gr.Markdown(GENERATE_HELP)
                with gr.Row():
                    with gr.Column(scale=1):
                        prompt = gr.Textbox(label="Prompt", value="a red circle on a blue background", lines=2)
                        negative_prompt = gr.Textbox(label="Negative prompt (what to steer away from)", lines=1)
                        scheduler = gr.Dropdown(label="Scheduler", choices=[], value=generate.PREFERRED_DEFAULTS[0],
                                                allow_custom_value=True)  # choices come when the tab opens
                        generate_steps = gr.Slider(1, generate.MAX_STEPS, value=20, step=1, label="Denoising steps")
                        guidance_scale = gr.Slider(0, generate.MAX_GUIDANCE, value=5.0, step=0.5,
                                                   label="Guidance scale (how strongly to follow the prompt)")
                        with gr.Row():
                            generate_seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=lab.MAX_SEED)
                            random_button = gr.Button("Random seed", size="sm")
                        generate_button = gr.Button("Generate", variant="primary")
                        gr.Examples([[p] for p in GENERATE_EXAMPLES], inputs=prompt)
                    with gr.Column(scale=1):
                        generated = gr.Image(label="Picture (previews while denoising)", type="filepath", format="png",
                                             height=400, interactive=False, elem_id="generated")
                        with gr.Row():
                            to_encode = gr.Button("Send to Encode", size="sm")
                            to_interpolate = gr.Button("Send to Interpolate (as A)", size="sm")
                        generate_summary = gr.JSON(label="Summary", elem_id="generate-summary")
                random_button.click(random_seed, None, generate_seed, api_visibility="private")
                generate_button.click(on_generate, [prompt, negative_prompt, scheduler, generate_steps, guidance_scale,
                                                    generate_seed], [generated, generate_summary], api_name="generate")
                to_encode.click(lambda picture: (picture, gr.Tabs(selected="encode")), generated,
                                [encode_input, tabs], api_visibility="private")
                to_interpolate.click(lambda picture: (picture, gr.Tabs(selected="interpolate")), generated,
                                     [image_a, tabs], api_visibility="private")
                with gr.Accordion("Same prompt and seed, several schedulers", open=False):
                    chosen_schedulers = gr.Dropdown(label="Schedulers to compare (up to 6)", choices=[], multiselect=True,
                                                    max_choices=6, allow_custom_value=True)
                    compare_schedulers_button = gr.Button("Compare schedulers", variant="secondary")
                    scheduler_grid = gr.Gallery(label="One picture per scheduler", columns=3, height="auto", format="png",
                                                elem_id="scheduler-grid", elem_classes=["fit-gallery"])
                    scheduler_summary = gr.JSON(label="Summary", elem_id="schedulers-summary")
                compare_schedulers_button.click(on_compare_schedulers, [prompt, chosen_schedulers, generate_steps, guidance_scale,
                                                                        generate_seed], [scheduler_grid, scheduler_summary],
                                                api_name="compare_schedulers")
                with gr.Accordion("What is this pipeline made of?", open=False):
                    gr.Markdown(ANATOMY_HELP)
                    anatomy_button = gr.Button("Show its parts", variant="secondary")
                    anatomy_summary = gr.JSON(label="Components", elem_id="anatomy")
                anatomy_button.click(on_anatomy, None, anatomy_summary, api_name="anatomy")
                # The pipeline loads when the tab is first opened; a missing model is told there.
                generate_tab.select(on_schedulers, None, [scheduler, gr.JSON(visible=False)], api_name="schedulers")
                generate_tab.select(on_scheduler_choices, None, chosen_schedulers, api_visibility="private")
        # Lessons: the open tab's inputs saved to one file, and opened again.
        fields = {
            "encode": dict(picture=encode_input),
            "sample": dict(picture=sample_input, n_samples=n_samples, sigma_scale=sigma_scale, seed=seed),
            "interpolate": dict(picture_a=image_a, picture_b=image_b, steps=steps, method=method),
            "channels": dict(picture=channels_input),
            "traverse": dict(picture=traverse_input, channel=channel, low=low, high=high, steps=traverse_steps,
                             unit=unit, region=region),
            "arithmetic": dict(picture_a=arithmetic_a, picture_b=arithmetic_b, picture_c=arithmetic_c, strength=strength),
            "compare": dict(picture_a=compare_a, picture_b=compare_b, steps=compare_steps, seed=compare_seed),
            "latent_map": dict(grid_size=grid_size, z1=z1, z2=z2, picture=digit_input),
            "generate": dict(prompt=prompt, negative_prompt=negative_prompt, scheduler=scheduler, steps=generate_steps,
                             guidance_scale=guidance_scale, seed=generate_seed),
        }
        layout = [(view, name, isinstance(component, ImageFile)) for view, named in fields.items() for name, component in named.items()]
        components = [component for named in fields.values() for component in named.values()]
        open_view = gr.State("encode")
        for view, tab in [("encode", encode_tab), ("sample", sample_tab), ("interpolate", interpolate_tab),
                          ("channels", channels_tab), ("traverse", traverse_tab), ("arithmetic", arithmetic_tab),
                          ("compare", compare_tab), ("latent_map", map_tab), ("generate", generate_tab)]:
            tab.select(lambda view=view: view, None, open_view, api_visibility="private")
        with gr.Accordion("Lessons: save the open tab's demo, or open a saved one", open=False):
            gr.Markdown(LESSON_HELP)
            with gr.Row():
                save_lesson = gr.Button("Save the open tab as a lesson")
                lesson_file = gr.File(label="Lesson file", elem_id="lesson-file")
                lesson_upload = gr.File(label="Open a lesson", file_types=[".json"], type="filepath", elem_id="lesson-upload")
            lesson_status = gr.Markdown(elem_id="lesson-status")
        save_lesson.click(partial(on_save_lesson, layout), [open_view, model, *components], [lesson_file, lesson_status],
                          api_name="save_lesson")
        lesson_upload.upload(partial(on_open_lesson, layout), lesson_upload,
                             [tabs, open_view, model, *components, lesson_status], api_name="open_lesson")
    return demo


# Galleries as tall as their pictures (no empty band under one row of frames), and strips, one
# row of frames per model or method, shown whole at their own aspect ratio.
CSS = """
.fit-gallery .fixed-height { min-height: 0 !important; }
.strips .thumbnail-item { aspect-ratio: auto !important; height: auto !important; }
.strips .thumbnail-item > img { height: auto !important; object-fit: contain !important; }
"""
THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="amber",  # system fonts: nothing to download
                        font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def serve(**launch_options):
    """Build, queue and launch the app; returns the running Blocks (tests pass options)."""
    models.set_threads(settings.threads)
    demo = build_app().queue(max_size=settings.queue_size, default_concurrency_limit=settings.concurrency)
    demo.launch(theme=THEME, css=CSS, max_file_size=settings.max_file_size, show_error=True, **launch_options)
    return demo


if __name__ == "__main__":
    serve()
