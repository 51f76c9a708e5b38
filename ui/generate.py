"""Generate: text to image with a choice of scheduler, several schedulers side by side, and the
parts of the pipeline."""

import random

import gradio as gr

from latent_lab import plots
from latent_lab.diffusion import generate, latent_walk
from latent_lab.diffusion.anatomy import anatomy
from latent_lab.checks import MAX_SEED, model_name
from latent_lab.diffusion.schedulers import MAX_SCHEDULERS, compare_schedulers
from latent_lab.streams import on_model_thread
from ui import answers, common, errors, events, files, widgets

TITLE, VIEW, ELEM_ID = "Generate", "generate", "tab-generate"

HELP = """
**Text to image.** A diffusion model starts from pure noise *in the VAE's latent space* and removes
a little of it at each step, steered by your prompt; the VAE's decoder then turns the final latent
into a picture. The previews decode the latent every few steps, so you can watch noise become a
picture. The **scheduler** decides how big each step is: same seed, different scheduler, a
different path. The embedded model was trained here on simple scenes (coloured shapes on plain
backgrounds) and its VAE is the very one you explore in the other tabs. It knows twelve colours, five
shapes, one to three of them, big or small, and where they go: *on the left*, *on the right*, *at the
top*, *at the bottom*, *in the centre*. Once a prompt says all of that, the seed changes little: its
training scenes differ only by a little jitter.
"""

ANATOMY_HELP = """
A diffusion pipeline is a few parts working together: a **tokenizer** cuts the prompt into tokens, the **text encoder**
turns them into vectors, the **UNet** predicts the noise in a latent given those vectors, the **scheduler** decides how
much noise to remove at each step, and the **VAE** decodes the final latent into a picture.
"""

WALK_HELP = """
**A walk that morphs.** Each frame starts from noise on the great circle between the two seeds' starting noise
(**slerp**, which keeps it as long as Gaussian noise is) and follows a prompt embedding on the straight line
between the two prompts' (**lerp**), and the diffusion model denoises it into a picture. So every frame is a
clean picture, and the walk's first and last frames are exactly what *Generate* makes for each end. This is how
Stable Diffusion's latent walk videos are made. The plot shows how much each step changes the picture: a walk
through the diffusion model changes in a few big steps, where one picture turns into another.

**One click further** walks the same two end pictures through the **VAE's** latents instead (encode both, lerp,
decode): its frames are double exposures, close to a plain crossfade (the dB figures: above about 30 the two look
the same), because each cell of this spatial latent blends its own 8×8 patch.
"""

PRIOR_HELP = """
**Why a diffusion model at all?** Decode the starting noise z ~ N(0, I) directly with the VAE: it is texture, not a
picture, because pictures are not where the VAE's prior is. The diffusion model's job is to carry that same noise
to a latent the decoder turns into a picture. *neighbour difference* (how much neighbouring pixels differ, grey
levels) is high for texture and low for the plain shapes these models draw.
"""

EXAMPLES = ["a red circle on a blue background", "two small yellow stars at the top on a black background",
            "a big green triangle on the left on a white background", "three pink squares on a cyan background"]


def random_seed():
    return random.randint(0, 2**31 - 1)


@errors.friendly
@common.gpu
def on_generate(prompt, negative_prompt, scheduler, steps, guidance_scale, seed, progress=gr.Progress()):
    request = generate.Request(prompt, negative_prompt, scheduler, steps, guidance_scale, seed)
    for kind, picture, extra in generate.stream(common.pipe(), request, model_name(common.settings.pipeline)):
        if kind == "wait":
            yield gr.skip(), gr.skip()  # nothing new: the request can be stopped here if its client left
        elif kind == "preview":
            progress(extra / request.steps, desc=f"denoising: step {extra} of {request.steps}")
            yield picture, {"status": f"step {extra} of {request.steps}"}
        else:
            yield picture, extra


@errors.friendly
@common.gpu
def on_latent_walk(prompt_a, prompt_b, seed_a, seed_b, frames, scheduler, steps, guidance_scale, progress=gr.Progress()):
    request = latent_walk.WalkRequest(prompt_a, prompt_b, seed_a, seed_b, frames, scheduler, steps, guidance_scale)
    pictures = []
    for kind, value, extra in latent_walk.walk(common.pipe(), request, model_name(common.settings.pipeline)):
        if kind == "wait":
            yield (gr.skip(),) * 5  # nothing new: the walk can be stopped here if its client left
        elif kind == "frame":
            pictures.append(value)
            progress(len(pictures) / int(frames), desc=f"frame {len(pictures)} of {int(frames)}")
            yield list(pictures), None, None, None, {"status": f"frame {len(pictures)} of {int(frames)}"}
        else:
            figure = plots.path_change_figure({"diffusion walk": extra["step_change"]})
            yield value, *files.animated(value, figure), extra


@errors.friendly
@common.gpu
@answers.remembered
@on_model_thread
def on_vae_walk(prompt_a, prompt_b, seed_a, seed_b, frames, scheduler, steps, guidance_scale):
    """The walk's two end pictures (what Generate makes for each), walked through the VAE's latents."""
    request = latent_walk.WalkRequest(prompt_a, prompt_b, seed_a, seed_b, frames, scheduler, steps, guidance_scale)
    pipe = common.pipe()
    ends = [generate.generate(pipe, end)[0] for end in latent_walk.end_requests(pipe, request)]
    pictures, summary = latent_walk.vae_walk(pipe.vae, *ends, request.frames, model_name(common.settings.pipeline))
    figure = plots.path_change_figure({"VAE-latent walk": summary["step_change"]})
    return pictures, figure, summary


@errors.friendly
@common.gpu
@answers.remembered
@on_model_thread
def on_prior_vs_diffusion(prompt, seed, scheduler, steps, guidance_scale):
    prior, diffusion, summary = latent_walk.prior_vs_diffusion(common.pipe(), prompt, seed, scheduler, steps,
                                                               guidance_scale, model_name(common.settings.pipeline))
    return prior, diffusion, summary


@errors.friendly
def on_schedulers():
    names = list(generate.scheduler_classes(common.pipe()))
    return gr.Dropdown(choices=names, value=generate.default_scheduler(common.pipe())), {"schedulers": names}


@errors.friendly
def on_scheduler_choices():
    names = list(generate.scheduler_classes(common.pipe()))
    preferred = [name for name in ("DDIMScheduler", "EulerDiscreteScheduler", "DPMSolverMultistepScheduler") if name in names]
    return gr.Dropdown(choices=names, value=preferred or names[:3])


@errors.friendly
@common.gpu
@on_model_thread
def on_compare_schedulers(prompt, names, steps, guidance_scale, seed):
    result = compare_schedulers(common.pipe(), prompt, names, steps, guidance_scale, seed,
                                model_name(common.settings.pipeline))
    return result.gallery, result.summary


@errors.friendly
@on_model_thread
def on_anatomy():
    return anatomy(common.pipe())


def build(page):
    gr.Markdown(HELP)
    with gr.Row():
        with gr.Column(scale=1):
            prompt = gr.Textbox(label="Prompt", value="a red circle on a blue background", lines=2,
                                max_length=generate.MAX_PROMPT_CHARS)
            negative_prompt = gr.Textbox(label="Negative prompt (what to steer away from)", lines=1,
                                         max_length=generate.MAX_PROMPT_CHARS)
            scheduler = gr.Dropdown(label="Scheduler", choices=[], value=generate.PREFERRED_DEFAULTS[0],
                                    allow_custom_value=True)  # choices come when the tab opens
            steps = gr.Slider(1, generate.MAX_STEPS, value=20, step=1, label="Denoising steps")
            guidance_scale = gr.Slider(0, generate.MAX_GUIDANCE, value=5.0, step=0.5,
                                       label="Guidance scale (how strongly to follow the prompt)")
            with gr.Row():
                seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
                random_button = gr.Button("Random seed", size="sm")
            button = gr.Button("Generate", variant="primary")
            gr.Examples([[p] for p in EXAMPLES], inputs=prompt)
        with gr.Column(scale=1):
            generated = gr.Image(label="Picture (previews while denoising)", type="filepath", format="png",
                                 height=400, interactive=False, elem_id="generated")
            with gr.Row():
                to_encode = gr.Button("Send to Encode", size="sm")
                to_interpolate = gr.Button("Send to Interpolate (as A)", size="sm")
            summary = gr.JSON(label="Summary", elem_id="generate-summary")
    random_button.click(random_seed, None, seed, api_visibility="private")
    events.streamed(button, on_generate, [prompt, negative_prompt, scheduler, steps, guidance_scale, seed],
                    [generated, summary], api_name="generate")
    to_encode.click(lambda picture: (picture, gr.Tabs(selected="encode")), generated,
                    [page.shared["encode.picture"], page.tabs], api_visibility="private")
    to_interpolate.click(lambda picture: (picture, gr.Tabs(selected="interpolate")), generated,
                         [page.shared["interpolate.picture_a"], page.tabs], api_visibility="private")
    settings = dict(prompt=prompt, negative_prompt=negative_prompt, scheduler=scheduler, steps=steps,
                    guidance_scale=guidance_scale, seed=seed)
    build_scheduler_grid(page, settings)
    build_walks(settings)
    build_prior_and_anatomy(settings)
    return settings


def build_scheduler_grid(page, settings):
    """Same prompt and seed, several schedulers; the dropdowns fill when the tab opens."""
    prompt, steps, guidance_scale, seed = (settings[k] for k in ("prompt", "steps", "guidance_scale", "seed"))
    with gr.Accordion("Same prompt and seed, several schedulers", open=False):
        chosen = gr.Dropdown(label=f"Schedulers to compare (up to {MAX_SCHEDULERS})", choices=[], multiselect=True,
                             max_choices=MAX_SCHEDULERS, allow_custom_value=True)
        grid_button = gr.Button("Compare schedulers", variant="secondary")
        grid = gr.Gallery(label="One picture per scheduler", columns=3, height="auto", format="png",
                          elem_id="scheduler-grid", elem_classes=["fit-gallery"])
        grid_summary = gr.JSON(label="Summary", elem_id="schedulers-summary")
    grid_button.click(on_compare_schedulers, [prompt, chosen, steps, guidance_scale, seed], [grid, grid_summary],
                      api_name="compare_schedulers")
    # The pipeline loads when the tab is first opened; a missing model is told there.
    page.tab.select(on_schedulers, None, [settings["scheduler"], gr.JSON(visible=False)], api_name="schedulers")
    page.tab.select(on_scheduler_choices, None, chosen, api_visibility="private")


def build_walks(settings):
    """The walk between two prompts through the diffusion, and the same ends through the VAE."""
    scheduler, steps, guidance_scale = settings["scheduler"], settings["steps"], settings["guidance_scale"]
    with gr.Accordion("Walk between two prompts: the diffusion's noise and prompt, beside the VAE's latents",
                      open=False):
        gr.Markdown(WALK_HELP)
        with gr.Row():
            prompt_a = gr.Textbox(label="Prompt A", value="a red circle on the left on a white background",
                                  max_length=generate.MAX_PROMPT_CHARS)
            prompt_b = gr.Textbox(label="Prompt B", value="a blue square on the right on a yellow background",
                                  max_length=generate.MAX_PROMPT_CHARS)
        with gr.Row():
            seed_a = gr.Number(0, label="Seed A", precision=0, minimum=0, maximum=MAX_SEED)
            seed_b = gr.Number(1, label="Seed B", precision=0, minimum=0, maximum=MAX_SEED)
            walk_frames = gr.Slider(latent_walk.MIN_FRAMES, latent_walk.MAX_FRAMES, value=8, step=1, label="Frames")
            walk_button = gr.Button("Walk", variant="primary")
        walk_outputs = widgets.frames_animation_plot("The diffusion walk: every frame denoised", "Change per step",
                                                    "walk-frames", "walk-summary")
        vae_button = gr.Button("Walk the same two ends through the VAE's latents", variant="secondary")
        vae_gallery = gr.Gallery(label="The VAE-latent walk of the same two pictures", columns=8, height="auto",
                                 format="png", elem_id="vae-walk-frames", elem_classes=["fit-gallery"])
        with gr.Row():
            vae_plot = gr.Plot(label="Change per step", show_label=False)
            vae_summary = gr.JSON(label="Summary", elem_id="vae-walk-summary")
    walk_inputs = [prompt_a, prompt_b, seed_a, seed_b, walk_frames, scheduler, steps, guidance_scale]
    events.streamed(walk_button, on_latent_walk, walk_inputs, walk_outputs, api_name="latent_walk")
    vae_button.click(on_vae_walk, walk_inputs, [vae_gallery, vae_plot, vae_summary], api_name="vae_walk")


def build_prior_and_anatomy(settings):
    """The starting noise decoded by the VAE beside the diffusion's picture, and the pipeline's parts."""
    prompt, seed, scheduler, steps, guidance_scale = (settings[k] for k in
                                                      ("prompt", "seed", "scheduler", "steps", "guidance_scale"))
    with gr.Accordion("Why a diffusion model? Decode its starting noise directly", open=False):
        gr.Markdown(PRIOR_HELP)
        prior_button = gr.Button("Decode z ~ N(0, I) with the VAE, beside the diffusion model's picture",
                                 variant="secondary")
        with gr.Row():
            prior_picture = gr.Image(label="The starting noise, decoded by the VAE", format="png", interactive=False,
                                     height=256, elem_id="prior-picture")
            diffusion_picture = gr.Image(label="What the diffusion model makes of the same noise", format="png",
                                         interactive=False, height=256)
            prior_summary = gr.JSON(label="Summary", elem_id="prior-summary")
    prior_button.click(on_prior_vs_diffusion, [prompt, seed, scheduler, steps, guidance_scale],
                       [prior_picture, diffusion_picture, prior_summary], api_name="prior_vs_diffusion")
    with gr.Accordion("What is this pipeline made of?", open=False):
        gr.Markdown(ANATOMY_HELP)
        anatomy_button = gr.Button("Show its parts", variant="secondary")
        anatomy_summary = gr.JSON(label="Components", elem_id="anatomy")
    anatomy_button.click(on_anatomy, None, anatomy_summary, api_name="anatomy")
