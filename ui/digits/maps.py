"""Digits, Map: the latent plane of the 2-number AE and VAE, decoded, with the test digits at their μ."""

import gradio as gr

from latent_lab import plots
from latent_lab.checks import InputError, shorten
from latent_lab.digits import maps
from latent_lab.digits.yours import check_yours, your_map, your_plane
from latent_lab.streams import on_model_thread
from ui import answers, errors
from ui.digits.shared import AE_2D, VAE_2D

MAP_HELP = """
**The map of a 2-number latent.** Each map decodes a grid of points; the dots are test digits the models never trained
on, at their μ, coloured by label; the yellow rings are N(0, I)'s 1σ, 2σ and 3σ. What to see: the **AE's codes spread
far** (`code_std` about 12: most of them lie outside the rings, over an irregular region), so random latents from
N(0, I) only reach the middle of its map, where some digits never are (`prior_label_mix`: no 0s among them). Its
2-number decoder still draws digit-like shapes almost everywhere, so its "holes" are not blank patches but the places
N(0, I) never reaches. The **VAE packs its codes into the rings** (`code_std` about 1), so N(0, I) lands on nearly every
kind of digit, and nearly every cell inside the rings is a clear digit (`clear_share`). Switch to *each model's own range*
to see all of the AE's codes. Click either map to decode that point. A 2-number model you trained (Training → Train
now) gets a map here too, drawn the same way.
"""
YOURS = "yours"  # the choice of the point decoder that means this page's model trained live


@errors.friendly
@answers.remembered
@on_model_thread
def on_map(extent):
    if extent not in maps.EXTENTS:
        raise InputError(f"The map shows 'prior' (N(0, I)'s ±3) or 'codes' (each model's own range), not {shorten(extent)}.")
    view = maps.map_view(extent)
    mixes = {name: view.summary[name]["prior_label_mix"] for name in view.pictures}
    return view.pictures[AE_2D], view.pictures[VAE_2D], plots.label_mix_figure(mixes), view.summary


@errors.friendly
@on_model_thread
def on_your_map(yours, extent):
    """Your 2-number model's map, shown only when this page has one."""
    if getattr(yours, "latent_dim", None) != 2:
        return gr.Row(visible=False), gr.skip(), gr.skip()
    _, picture, summary = your_map(yours, extent)
    return gr.Row(visible=True), gr.Image(picture, label=yours.name), summary


@errors.friendly
@on_model_thread
def on_point(name, z1, z2, yours):
    if name == YOURS:
        yours = check_yours(yours, 2)
        return maps.decode_point(yours.name, z1, z2, model=yours.model)
    return maps.decode_point(name, z1, z2)


@errors.friendly
@on_model_thread
def on_map_click(name, extent, yours, event: gr.SelectData):
    """A click on a map picks the latent point under the pointer (then decoded by on_point)."""
    if name == YOURS:
        z1, z2 = your_plane(yours, extent)[0].to_latent(*event.index)
    else:
        z1, z2 = maps.click_to_latent(name, *event.index, extent=extent)
    return name, round(z1, 2), round(z2, 2)


def build(page, yours):
    with gr.Tab("Map", elem_id="digits-map-tab", id="digits-map") as map_tab:
        gr.Markdown(MAP_HELP)
        extent = gr.Radio([("N(0, I)'s ±3", "prior"), ("each model's own range", "codes")], value="prior",
                          label="Show")
        with gr.Row():
            ae_map = gr.Image(label=f"{AE_2D}: a plain autoencoder", format="png", interactive=False,
                              elem_id="ae-map")
            vae_map = gr.Image(label=f"{VAE_2D}: a VAE", format="png", interactive=False, elem_id="vae-map")
        with gr.Row(visible=False) as your_row:
            your_picture = gr.Image(label=YOURS, format="png", interactive=False, elem_id="your-map")
            your_summary = gr.JSON(label="Your model's map", elem_id="your-map-summary")
        with gr.Row():
            mix_plot = gr.Plot(label="Prior samples by label", show_label=False)
            map_summary = gr.JSON(label="Summary", elem_id="digits-map-summary")
        with gr.Row():
            point_model = gr.Radio([AE_2D, VAE_2D, YOURS], value=VAE_2D, label="Decode a point of")
            z1 = gr.Slider(-10, 10, value=0, step=0.05, label="z1 (across)")
            z2 = gr.Slider(-10, 10, value=0, step=0.05, label="z2 (up)")
        with gr.Row():
            point_picture = gr.Image(label="Decode of the point", format="png", interactive=False, height=224,
                                     elem_id="digits-point")
            point_summary = gr.JSON(label="Summary", elem_id="digits-point-summary")
        # Inside the tab: a component made between two tabs would count as a tab in the bar's order.
        map_names = {name: gr.State(name) for name in (AE_2D, VAE_2D, YOURS)}
    map_event = dict(fn=on_map, inputs=extent, outputs=[ae_map, vae_map, mix_plot, map_summary])
    your_event = dict(fn=on_your_map, inputs=[yours, extent], outputs=[your_row, your_picture, your_summary],
                      api_visibility="private")
    map_tab.select(**map_event, api_name="digits_map").then(**your_event)
    page.tab.select(**map_event, api_visibility="private").then(**your_event)
    extent.change(**map_event, api_visibility="private").then(**your_event)
    point_event = dict(fn=on_point, inputs=[point_model, z1, z2, yours], outputs=[point_picture, point_summary])
    for control in (z1, z2):
        control.release(**point_event, api_visibility="private")
    for name, picture in ((AE_2D, ae_map), (VAE_2D, vae_map), (YOURS, your_picture)):
        picture.select(on_map_click, [map_names[name], extent, yours], [point_model, z1, z2],
                       api_visibility="private").then(**point_event, api_visibility="private")
