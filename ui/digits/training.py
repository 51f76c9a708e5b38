"""Digits, Training: the 2-number autoencoder's and VAE's training replayed snapshot by snapshot,
and a model trained live, from scratch, while you watch."""

import threading

import gradio as gr

from latent_lab.checks import InputError, MAX_SEED
from latent_lab.digits import beta, live, replay
from latent_lab.streams import on_model_thread
from ui import answers, errors
from ui.digits.shared import AE_2D, VAE_2D

REPLAY_HELP = """
**Training replayed.** The 2-number autoencoder and VAE trained again from scratch, the way the shipped ones were
(4,000 steps); the map was kept at log-spaced steps, from the untrained network (step 0) to the end. Scrub through:
at step 0 every cell decodes to the same grey and all the test digits sit on one point; after a few dozen steps the
cells are blurred blobs and the codes stream out in a line; then they spread by kind and the cells become digits
(`clear_share` per snapshot, for the VAE: 0 at step 0, 0.18 at step 61, 0.61 at step 326, 0.93 at the end; the
autoencoder's, over its wider window, 0.95 at the end). The VAE's codes first
run beyond the rings while its KL weight is still small (it rises from 0 over the first 1,500 steps), then are pulled
back inside them; the autoencoder's never stop spreading (`code_std` 0.7 and 0.1 at step 61, 9.3 and 10.8 at the end). The curves are
the training batches' two loss terms, reconstruction and KL, in nats per digit; the dots are the test digits at each
snapshot, the red line the moment shown.
"""
LIVE_HELP = """
**Train one live.** A fresh, smaller model of the same kind, trained from scratch on the 4,000 shipped training digits
while you watch: the map (2 numbers) or random latents decoded (16 numbers) and the loss curves, updated every second or
so. β = 0 trains an autoencoder. The seconds count training steps ({pace} a second), not the clock, so the same
seed gives the same model; on a busy server it takes longer. One model at a time per page; Stop ends it. The finished
model is yours for as long as this page is open: the Map and Draw views show it beside the shipped ones.
"""
_training = set()  # the pages (sessions) with a model training now: one each at a time
_training_lock = threading.Lock()


@errors.friendly
@answers.remembered
@on_model_thread
def on_replay(name, snapshot):
    return replay.training_view(name, snapshot)


@errors.friendly
@on_model_thread
def on_train(beta_value, latent_dim, seconds, seed, request: gr.Request):
    session = getattr(request, "session_hash", None) or id(request)
    with _training_lock:
        if session in _training:
            raise InputError("This page is already training a model: wait for it to finish, or press Stop, "
                             "then train another.")
        _training.add(session)
    try:
        for picture, figure, summary, yours in live.train_live(beta_value, latent_dim, seconds, seed):
            yield picture, figure, summary, gr.skip() if yours is None else yours
    finally:
        with _training_lock:
            _training.discard(session)


def build_replay():
    count = replay.snapshot_count(VAE_2D)
    with gr.Row():
        name = gr.Radio([AE_2D, VAE_2D], value=VAE_2D, label="Model")
        snapshot = gr.Slider(0, count - 1, value=count - 1, step=1, label="Snapshot (0: untrained)",
                             elem_id="replay-snapshot")
    with gr.Row():
        snapshot_map = gr.Image(label="The map at this snapshot", format="png", interactive=False,
                                elem_id="replay-map")
        curves = gr.Plot(label="The loss terms", show_label=False)
    summary = gr.JSON(label="Summary", elem_id="digits-training-summary")
    event = dict(fn=on_replay, inputs=[name, snapshot], outputs=[snapshot_map, curves, summary])
    snapshot.change(**event, api_name="digits_training", trigger_mode="always_last")
    name.change(**event, api_visibility="private")
    return event


def build_live(yours):
    with gr.Row():
        beta_value = gr.Slider(0, beta.MAX_BETA, value=1, step=0.05, label="β, the KL weight (0: an autoencoder)")
        latent_dim = gr.Radio(list(live.LATENT_DIMS), value=2, label="Latent numbers")
        seconds = gr.Slider(live.MIN_SECONDS, live.MAX_SECONDS, value=20, step=1, label="Seconds of training")
        seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
    with gr.Row():
        train_button = gr.Button("Train now", variant="primary", elem_id="train-now")
        stop_button = gr.Button("Stop", elem_id="train-stop")
    with gr.Row():
        live_picture = gr.Image(label="The model as it learns", format="png", interactive=False,
                                elem_id="live-picture")
        live_curves = gr.Plot(label="The loss terms", show_label=False)
    live_summary = gr.JSON(label="Summary", elem_id="digits-train-summary")
    training = train_button.click(on_train, [beta_value, latent_dim, seconds, seed],
                                  [live_picture, live_curves, live_summary, yours], api_name="digits_train")
    stop_button.click(None, None, None, cancels=[training], api_visibility="private")


def build(page, yours):
    with gr.Tab("Training", elem_id="digits-training-tab", id="digits-training") as training_tab:
        gr.Markdown(REPLAY_HELP)
        replay_event = build_replay()
        gr.Markdown(LIVE_HELP.format(pace=live.STEPS_PER_SECOND))
        build_live(yours)
    training_tab.select(**replay_event, api_visibility="private")
