"""Latent Lab: a Gradio app for exploring the latent space of a variational autoencoder.

Run `python app.py` and open the printed address. This file assembles the page: the header, the
model selector, the tabs in order (each in its own ui/ module), the queue and the launch.
"""

import os
from types import SimpleNamespace

import gradio as gr
import torch

from latent_lab import models, streams, vae as vae_ops
from ui import (arithmetic, channels, classroom, common, compare, digits, encode, errors, generate, interpolate, lessons,
                sample, traverse)

TABS = (encode, sample, interpolate, channels, traverse, arithmetic, compare, digits, classroom, generate)

INTRO = """
# Latent Lab
A **variational autoencoder** (VAE) squeezes a picture into a small grid of numbers, its *latent*,
and a decoder turns the latent back into a picture. A plain autoencoder maps each picture to one
point. A VAE maps it to a **distribution**: a mean **μ** and a spread **σ** for every latent cell.
During training a KL term pulls these distributions toward N(0, 1), which is why nearby latents
decode to similar pictures and why you can walk smoothly from one picture to another.
"""

MODEL_HELP = ("latent-lab-ae: a plain autoencoder (no KL, no σ); latent-lab-vae: the default VAE; "
              "latent-lab-vae-strong-kl: a VAE pulled hard toward N(0, 1).")

# Galleries as tall as their pictures (no empty band under one row of frames), and strips, one
# row of frames per model or method, shown whole at their own aspect ratio. An output that waits
# keeps a steady border: Gradio's pulsing one repaints it every frame, which took chromium half a
# core while the model decoded on the same two (a Sample of the SD architecture 7.1 s -> 6.1 s).
CSS = """
.fit-gallery .fixed-height { min-height: 0 !important; }
.strips .thumbnail-item { aspect-ratio: auto !important; height: auto !important; }
.strips .thumbnail-item > img { height: auto !important; object-fit: contain !important; }
.wrap.generating { animation: none !important; }
"""
THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="amber",  # system fonts: nothing to download
                        font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def model_line():
    try:
        model, _ = common.vae()
    except models.ModelUnavailableError as error:
        return f"**Model problem:** {errors.user_error(error).message}"
    settings, config = common.settings, model.config
    return (f"Default VAE: **{settings.vae_name}**, {models.parameter_count(model) / 1e6:.1f} M parameters, "
            f"{config.latent_channels} latent channels at 1/{vae_ops.scale_factor(model)} of the picture's size. "
            f"Pictures are worked at {common.working_size().reason}.")


def build_app():
    settings = common.settings
    cleanup = (min(600, settings.cache_seconds), settings.cache_seconds)  # (how often, how old)
    with errors.Page(title="Latent Lab", delete_cache=cleanup) as demo:
        gr.Markdown(INTRO)
        with gr.Row(equal_height=True):
            selector = gr.Dropdown(list(settings.vae_choices()), value=settings.vae_name,
                                   label="VAE used by the picture tabs", info=MODEL_HELP, scale=2, elem_id="model")
            gr.Markdown(model_line())
        # The choice lives in the session, so API callers need not send it (they get the default).
        page = SimpleNamespace(model=gr.State(settings.vae_name), model_selector=selector,
                               open_view=gr.State(encode.VIEW), shared={}, demo=demo)
        selector.change(lambda name: name, selector, page.model, api_visibility="private")
        fields, titles = {}, {}
        with gr.Tabs(overflow_behavior="wrap") as page.tabs:  # every tab in sight, none in a menu
            for tab in TABS:
                with gr.Tab(tab.TITLE, id=tab.VIEW, elem_id=tab.ELEM_ID) as page.tab:
                    fields[tab.VIEW], titles[tab.VIEW] = tab.build(page), tab.TITLE
                page.tab.select(lambda view=tab.VIEW: view, None, page.open_view, api_visibility="private")
        lessons.build(page, fields, titles)
    return demo


MODEL_WORK = "model-work"  # the one concurrency group of every event that runs our handlers


def share_one_limit(demo):
    """Every event whose handler is ours (errors.friendly marks them) joins one concurrency group,
    so LATENT_LAB_CONCURRENCY bounds all model work together, whatever the endpoints; the events
    that only move a value between widgets keep their own."""
    for block_fn in demo.fns.values():
        handler = getattr(block_fn.fn, "func", block_fn.fn)  # a functools.partial's own function
        if getattr(handler, "model_work", False):
            block_fn.concurrency_id = MODEL_WORK
    return demo


def model_threads(concurrency):
    """How many requests' model work may run at once: LATENT_LAB_CONCURRENCY, as far as the cores
    give each its torch threads (one on 2 cores: two would make OpenMP slow both)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(concurrency, cores // torch.get_num_threads()))


def serve(**launch_options):
    """Build, queue and launch the app; returns the running Blocks (tests pass options)."""
    settings = common.settings
    models.set_threads(settings.threads)
    streams.use_model_threads(model_threads(settings.concurrency))
    demo = share_one_limit(build_app()).queue(max_size=settings.queue_size, default_concurrency_limit=settings.concurrency)
    # show_error=False: only our own sentences (gr.Error) reach users, never an exception's text.
    demo.launch(theme=THEME, css=CSS, max_file_size=settings.max_file_size, show_error=False, **launch_options)
    return demo


if __name__ == "__main__":
    serve()
