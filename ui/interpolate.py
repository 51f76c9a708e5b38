"""Interpolate: walk from one picture's latent to another's (lerp or slerp), the same walk three
ways (lerp, slerp and a pixel crossfade), and the walk as an MP4."""

import gradio as gr

from latent_lab.photos import interpolate
from latent_lab.photos.interpolate import (InterpolateResult, ThreeWaysResult, interpolate_stream, interpolate_view,
                                    three_ways_stream)
from latent_lab.streams import on_model_thread
from ui import answers, common, errors, events, files, widgets

TITLE, VIEW, ELEM_ID = "Interpolate", "interpolate", "tab-interpolate"

HELP = """
**What you see.** The two pictures are encoded to latents z_A and z_B, and the frames decode points
on a path between them. **lerp** walks the straight line; **slerp** walks around the sphere, keeping
‖z‖ close to that of the ends (left plot: lerp sags in the middle, where latents are shorter than typical ones).

**Why the frames look like a crossfade.** This VAE's latent is a grid: each cell describes one 8×8 patch of
the picture, on its own. Halfway between two latents, every patch is halfway between two patches, and the
decoder draws that as a blend of the two: a double exposure, close to a plain pixel crossfade of the two
reconstructions. The right plot measures it: each frame's distance to the crossfade in dB (above about 30 dB
the two look the same). Stable Diffusion's own VAE does the same. Pictures that *morph* come from walking the
diffusion model's starting noise and prompt instead (**Generate** tab, *Walk between two prompts*), or from a
model whose whole latent is one short vector (**Digits** tab). Picture B is cropped to A's shape.
"""

THREE_WAYS_HELP = """
A **crossfade** blends the pixels of the two reconstructions: the middle frame is a double exposure, and the
encoder places it off the path that latents take (its ‖z‖ curve). **lerp** and **slerp** walk between the
latents and decode each point. Compare the rows: on this spatial latent they are close to the crossfade
(the dB figures in the plot and the summary), because each latent cell blends its own patch.
With a slow VAE this comparison works at a smaller size than the other views (the line beside the model choice
says which; the summary's `size`), so its dB figures can differ a little from the walk's above.
"""


@errors.friendly
@common.gpu
@answers.remembered
@on_model_thread
def on_interpolate(file_a, file_b, steps, method, model=None):
    """Streams: each frame appears as soon as it is decoded."""
    for item in interpolate_stream(*common.vae(model), file_a, file_b, steps, method, common.max_side(model)):
        if isinstance(item, InterpolateResult):
            gif, _, plot = files.animated(item.frames, item.norm_plot, video=False)
            yield item.frames, gif, plot, item.summary
        else:
            yield item, None, None, {"status": f"{len(item)} of {int(steps)} frames decoded"}


@errors.friendly
@common.gpu
@answers.remembered
@on_model_thread
def on_interpolate_video(file_a, file_b, steps, method, model=None):
    result = interpolate_view(*common.vae(model), file_a, file_b, steps, method, common.max_side(model))
    return files.write_video(result.frames)


@errors.friendly
@common.gpu
@answers.remembered
@on_model_thread
def on_three_ways(file_a, file_b, steps, model=None):
    """Streams: the crossfade's row first (it needs no model), then lerp's and slerp's. Works at
    the Three ways size (sizing: smaller than the other views' where the VAE is slow)."""
    side = common.working_size(model).three_ways_side
    for item in three_ways_stream(*common.vae(model), file_a, file_b, steps, side):
        if isinstance(item, ThreeWaysResult):
            yield item.rows, item.norm_plot, item.summary
        else:
            yield item, None, {"status": f"{len(item)} of 3 ways drawn"}


def build(page):
    with gr.Row():
        image_a = widgets.image_input("Picture A")
        image_b = widgets.image_input("Picture B")
        with gr.Column():
            steps = gr.Slider(interpolate.MIN_STEPS, interpolate.MAX_STEPS, value=8, step=1, label="Frames")
            method = gr.Radio(["lerp", "slerp"], value="slerp", label="Path")
            button = gr.Button("Interpolate", variant="primary")
    gr.Examples(common.EXAMPLE_PAIRS, inputs=[image_a, image_b])
    frames = gr.Gallery(label="Frames from A to B", columns=8, height="auto", format="png", elem_id="frames",
                        object_fit="contain", elem_classes=["fit-gallery"])
    with gr.Row():
        animation = gr.Image(label="Animation", height=300, interactive=False, elem_id="animation")
        summary = gr.JSON(label="Summary", elem_id="interpolate-summary")
    walk_plot = gr.Plot(label="‖z‖ and distance to a crossfade along the path", show_label=False)
    gr.Markdown(HELP)
    inputs = [image_a, image_b, steps, method, page.model]
    events.streamed(button, on_interpolate, inputs, [frames, animation, walk_plot, summary], api_name="interpolate")
    with gr.Row():
        video_button = gr.Button("Save the path as MP4", size="sm")
        video_file = gr.File(label="Video", elem_id="interpolate-video", visible=False)
    video_button.click(on_interpolate_video, inputs, video_file, api_name="interpolate_video").success(
        lambda: gr.File(visible=True), None, video_file, api_visibility="private")  # no empty box before
    with gr.Accordion("Three ways from A to B: lerp, slerp and a pixel crossfade", open=False):
        gr.Markdown(THREE_WAYS_HELP)
        three_ways_button = gr.Button("Compare the three ways", variant="secondary")
        rows, plot, three_summary = widgets.rows_plot_summary("Each way from A to B", "‖z‖ along each way", "three-ways")
    events.streamed(three_ways_button, on_three_ways, [image_a, image_b, steps, page.model],
                    [rows, plot, three_summary], api_name="three_ways")
    page.shared["interpolate.picture_a"] = image_a
    return dict(picture_a=image_a, picture_b=image_b, steps=steps, method=method)
