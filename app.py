"""Latent Lab: a Gradio app for exploring the latent space of a variational autoencoder.

Run `python app.py` and open the printed address. Handlers here only read widgets, call
latent_lab and hand back pictures, figures and JSON summaries.
"""

from functools import wraps
import hashlib
import inspect
import os
import random
import tempfile
from pathlib import Path

import gradio as gr

from latent_lab import generate, lab, models, vae as vae_ops
from latent_lab.config import EXAMPLES, Settings

settings = Settings.from_env()
EXAMPLE_IMAGES = sorted(str(p) for p in EXAMPLES.glob("*.jpg"))
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


def vae():
    return models.load_vae(settings.vae)


def pipe():
    return models.load_pipeline(settings.pipeline)


def write_gif(pictures):
    """Save frames as a GIF named by its content (repeats reuse the file) in a temp folder."""
    folder = Path(tempfile.gettempdir()) / "latent-lab"
    folder.mkdir(exist_ok=True)
    digest = hashlib.sha256(b"".join(p.tobytes() for p in pictures)).hexdigest()[:20]
    path = folder / f"path-{digest}.gif"
    if not path.exists():
        for old in sorted(folder.glob("*.gif"), key=os.path.getmtime)[:-50]:  # keep the folder small
            old.unlink(missing_ok=True)
        partial = folder / f"{digest}-{os.getpid()}-{random.getrandbits(32)}.part"
        lab.save_gif(pictures, partial, format="GIF")
        os.replace(partial, path)  # atomic: a concurrent request never sees half a file
    return str(path)


@friendly
def on_encode(file):
    result = lab.encode_view(vae(), file, settings.vae, settings.max_side)
    return result.reconstruction, result.posterior_plot, result.summary


@friendly
def on_sample(file, n_samples, sigma_scale, seed):
    result = lab.sample_view(vae(), file, settings.vae, n_samples, sigma_scale, seed, settings.max_side)
    return result.samples, result.pixel_std_plot, result.summary


@friendly
def on_interpolate(file_a, file_b, steps, method):
    result = lab.interpolate_view(vae(), file_a, file_b, settings.vae, steps, method, settings.max_side)
    return result.frames, write_gif(result.frames), result.norm_plot, result.summary


@friendly
def on_channels(file):
    result = lab.channels_view(vae(), file, settings.vae, settings.max_side)
    return result.channels_plot, result.histogram_plot, result.summary


@friendly
def on_schedulers():
    names = list(generate.scheduler_classes(pipe()))
    return gr.Dropdown(choices=names, value=generate.default_scheduler(pipe())), {"schedulers": names}


@friendly
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
        model = vae()
    except models.ModelUnavailableError as error:
        return f"**Model problem:** {error}"
    config = model.config
    return (f"VAE: **{lab.model_name(settings.vae)}**, {models.parameter_count(model) / 1e6:.1f} M parameters, "
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
edges and in textures, where the encoder is least sure. The heat map shows how much each pixel
varies across the samples. The same seed always gives the same samples.
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

GENERATE_EXAMPLES = ["a red circle on a blue background", "two small yellow stars at the top on a black background",
                     "a big green triangle on the left on a white background", "three pink squares on a cyan background"]


def image_input(label):
    return ImageFile(label=label, type="filepath", sources=["upload", "clipboard"], height=300)


def build_app():
    with gr.Blocks(title="Latent Lab", delete_cache=(600, 3600)) as demo:
        gr.Markdown(INTRO)
        gr.Markdown(model_line())
        with gr.Tabs() as tabs:
            with gr.Tab("Encode", id="encode", elem_id="tab-encode"):
                with gr.Row():
                    with gr.Column(scale=1):
                        encode_input = image_input("Your picture")
                        encode_button = gr.Button("Encode", variant="primary")
                        gr.Examples(EXAMPLE_IMAGES, inputs=encode_input)
                    with gr.Column(scale=1):
                        reconstruction = gr.Image(label="Reconstruction (decoded μ)", height=300, interactive=False, format="png",
                                                  elem_id="reconstruction")
                        encode_summary = gr.JSON(label="Summary", elem_id="encode-summary")
                posterior_plot = gr.Plot(label="μ and σ per latent cell")
                gr.Markdown(ENCODE_HELP)
                encode_button.click(on_encode, encode_input, [reconstruction, posterior_plot, encode_summary], api_name="encode")

            with gr.Tab("Sample", elem_id="tab-sample"):
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
                        with gr.Row():
                            pixel_std_plot = gr.Plot(label="How much each pixel varies")
                            sample_summary = gr.JSON(label="Summary", elem_id="sample-summary")
                gr.Markdown(SAMPLE_HELP)
                sample_button.click(on_sample, [sample_input, n_samples, sigma_scale, seed],
                                    [samples, pixel_std_plot, sample_summary], api_name="sample")

            with gr.Tab("Interpolate", id="interpolate", elem_id="tab-interpolate"):
                with gr.Row():
                    image_a = image_input("Picture A")
                    image_b = image_input("Picture B")
                    with gr.Column():
                        steps = gr.Slider(2, 32, value=8, step=1, label="Frames")
                        method = gr.Radio(["lerp", "slerp"], value="slerp", label="Path")
                        interpolate_button = gr.Button("Interpolate", variant="primary")
                gr.Examples([EXAMPLE_IMAGES[i:i + 2] for i in range(0, len(EXAMPLE_IMAGES) - 1, 2)], inputs=[image_a, image_b])
                frames = gr.Gallery(label="Frames from A to B", columns=8, height="auto", format="png", elem_id="frames")
                with gr.Row():
                    animation = gr.Image(label="Animation", height=300, interactive=False, elem_id="animation")
                    norm_plot = gr.Plot(label="‖z‖ along the path")
                    interpolate_summary = gr.JSON(label="Summary", elem_id="interpolate-summary")
                gr.Markdown(INTERPOLATE_HELP)
                interpolate_button.click(on_interpolate, [image_a, image_b, steps, method],
                                         [frames, animation, norm_plot, interpolate_summary], api_name="interpolate")

            with gr.Tab("Channels", elem_id="tab-channels"):
                with gr.Row():
                    with gr.Column(scale=1):
                        channels_input = image_input("Your picture")
                        channels_button = gr.Button("Show channels", variant="primary")
                        gr.Examples(EXAMPLE_IMAGES, inputs=channels_input)
                    with gr.Column(scale=2):
                        histogram_plot = gr.Plot(label="Latent values against N(0, 1)")
                        channels_summary = gr.JSON(label="Summary", elem_id="channels-summary")
                channels_plot = gr.Plot(label="Latent channels", elem_id="channels-plot")
                gr.Markdown(CHANNELS_HELP)
                channels_button.click(on_channels, channels_input, [channels_plot, histogram_plot, channels_summary],
                                      api_name="channels")

            with gr.Tab("Generate", id="generate", elem_id="tab-generate") as generate_tab:
                gr.Markdown(GENERATE_HELP)
                with gr.Row():
                    with gr.Column(scale=1):
                        prompt = gr.Textbox(label="Prompt", value="a red circle on a blue background", lines=2)
                        negative_prompt = gr.Textbox(label="Negative prompt (what to steer away from)", lines=1)
                        scheduler = gr.Dropdown(label="Scheduler", choices=[], allow_custom_value=True)
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
                random_button.click(random_seed, None, generate_seed, api_name=False)
                generate_button.click(on_generate, [prompt, negative_prompt, scheduler, generate_steps, guidance_scale,
                                                    generate_seed], [generated, generate_summary], api_name="generate")
                to_encode.click(lambda picture: (picture, gr.Tabs(selected="encode")), generated,
                                [encode_input, tabs], api_name=False)
                to_interpolate.click(lambda picture: (picture, gr.Tabs(selected="interpolate")), generated,
                                     [image_a, tabs], api_name=False)
                # The pipeline loads when the tab is first opened; a missing model is told there.
                generate_tab.select(on_schedulers, None, [scheduler, gr.JSON(visible=False)], api_name="schedulers")
    return demo


THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="amber",  # system fonts: nothing to download
                        font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def serve(**launch_options):
    """Build, queue and launch the app; returns the running Blocks (tests pass options)."""
    models.set_threads(settings.threads)
    demo = build_app().queue(max_size=32, default_concurrency_limit=2)
    demo.launch(theme=THEME, max_file_size=settings.max_file_size, show_error=True, **launch_options)
    return demo


if __name__ == "__main__":
    serve()
