"""The training data, a text-to-image training step, and the automatic scorer of its results."""

import numpy as np
import torch
from diffusers import DDPMScheduler

from latent_lab.training.evaluate_t2i import evaluate, nearest_colour, prompts, score
from latent_lab.training.scenes import COLOURS, POSITIONS, SHAPES, Scene, random_scene
from latent_lab.training.train_t2i import (ATTRIBUTES, HELD_OUT_PAIRS, NOISE_SCHEDULE, AttributeHead,
                                           attribute_labels, diffusion_loss, min_snr_weights, training_scenes)
from tests.conftest import make_tiny_pipeline, make_tiny_vae


def test_caption_grammar_covers_the_required_words():
    assert len(COLOURS) >= 8 and len(SHAPES) >= 5 and len(POSITIONS) == 5
    assert Scene("circle", "red", "blue").caption() == "a big red circle in the centre on a blue background"
    assert Scene("star", "orange", "orange", count=2, size="small", position="on the left").caption() == \
        "two small orange stars on the left on an orange background"


def test_captions_keep_the_position_words_when_asked():
    scene = Scene("circle", "red", "blue", count=2, size="small", position="at the top")
    rng = np.random.default_rng(0)
    always = [scene.caption(rng, size_share=0.7, position_share=1.0) for _ in range(200)]
    assert all("at the top" in caption for caption in always)
    assert 0.6 < np.mean(["small" in caption for caption in always]) < 0.8
    sometimes = [scene.caption(rng) for _ in range(200)]  # the default mix leaves them out now and then
    assert 0.6 < np.mean(["at the top" in caption for caption in sometimes]) < 0.8


def test_training_scenes_leave_out_the_held_out_pairs():
    scenes = training_scenes(count=3000)
    assert not {(s.colour, s.shape) for s in scenes} & HELD_OUT_PAIRS
    assert all(s.colour != s.background for s in scenes)
    assert {s.count for s in scenes} == {1, 2, 3}


def test_the_scorer_recognises_rendered_scenes():
    """Scenes drawn as in training, any count and size: every attribute is read right (size for one
    shape only), but the count of shapes that touch (1.6% of 1,000 scenes measured)."""
    rng = np.random.default_rng(0)
    counted = []
    for _ in range(300):
        scene = random_scene(rng)
        result = score(scene.render(128, rng), scene)
        assert set(result) == {"background", "object colour", "position", "count"} | (
            {"size"} if scene.count == 1 else set())
        assert all(v for k, v in result.items() if k != "count"), (scene, result)
        counted.append(result["count"])
    assert np.mean(counted) >= 0.97


def test_the_scorer_finds_the_position_of_one_to_three_shapes():
    """Every position, count and size, drawn as in training: the scorer reads what was drawn."""
    rng = np.random.default_rng(1)
    for position in POSITIONS:
        for count in (1, 2, 3):
            for size in ("small", "big"):
                scene = Scene("star", "yellow", "purple", count, size, position)
                assert score(scene.render(128, rng), scene)["position"], (position, count, size)


def test_the_scorer_notices_a_wrong_picture():
    drawn = Scene("circle", "red", "blue", position="on the left")
    asked = Scene("circle", "green", "yellow", size="small", position="on the right")
    assert score(drawn.render(128), asked) == {"background": False, "object colour": False, "position": False,
                                               "count": True, "size": False}
    assert not score(drawn.render(128), Scene("circle", "red", "blue", count=2, position="on the left"))["count"]


def test_evaluation_scores_only_what_a_prompt_says(pipe):
    scenes = [Scene("circle", "red", "blue", count=1, size="small", position="on the left"),
              Scene("star", "green", "white", count=2, size="big", position="at the top")]
    full = evaluate(pipe, scenes, "DDIMScheduler", 2, 5.0)
    short = evaluate(pipe, scenes, "DDIMScheduler", 2, 5.0, short=True)  # no size or position words
    assert set(full) == {"background", "object colour", "position", "count", "size"}
    assert set(short) == {"background", "object colour", "count"}
    assert all(0 <= value <= 1 for value in [*full.values(), *short.values()])


def test_nearest_colour_and_held_out_prompts():
    assert nearest_colour((250, 20, 20)) == "red"
    held_out = prompts(20, held_out=True)
    assert all((s.colour, s.shape) in HELD_OUT_PAIRS for s in held_out)
    assert not any((s.colour, s.shape) in HELD_OUT_PAIRS for s in prompts(20, held_out=False))


def test_training_steps_lower_the_diffusion_loss_on_one_batch():
    """The training step of train_t2i, on tiny models: repeated on one batch, the loss falls."""
    pipe = make_tiny_pipeline(make_tiny_vae())
    unet, text_encoder = pipe.unet.train(), pipe.text_encoder.train()
    parameters = list(unet.parameters()) + list(text_encoder.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=3e-3)
    noise_schedule = DDPMScheduler.from_config(NOISE_SCHEDULE)
    latents = torch.randn((4, 4, 8, 8), generator=torch.Generator().manual_seed(0))
    captions = ["a red circle", "two blue stars", "", "a big green square on the left"]

    def loss():  # the same noise and timesteps every time
        return diffusion_loss(unet, text_encoder, pipe.tokenizer, latents, captions, noise_schedule,
                              torch.Generator().manual_seed(1))

    first = loss()
    for _ in range(30):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    last = loss().item()
    assert torch.isfinite(first) and first.item() > 0.5  # noise of unit variance, barely predicted yet
    assert last < 0.7 * first.item()


def test_min_snr_weights_keep_noisy_timesteps_and_damp_clean_ones():
    noise_schedule = DDPMScheduler.from_config(NOISE_SCHEDULE)
    alpha_bar = noise_schedule.alphas_cumprod
    snr = alpha_bar / (1 - alpha_bar)
    timesteps = torch.tensor([0, 100, 500, 999])
    weights = min_snr_weights(noise_schedule, timesteps, gamma=5.0)
    expected = torch.where(snr[timesteps] > 5.0, 5.0 / snr[timesteps], torch.ones(4))
    assert torch.allclose(weights, expected)
    assert weights[0] < 0.01 and weights[2] == 1.0 and weights[3] == 1.0  # t=0 is almost clean (SNR ~ 1,200)


def test_a_floor_under_the_weights_raises_the_noisiest_timesteps():
    noise_schedule = DDPMScheduler.from_config(NOISE_SCHEDULE)
    alpha_bar = noise_schedule.alphas_cumprod
    snr = alpha_bar / (1 - alpha_bar)
    timesteps = torch.tensor([0, 500, 999])
    weights = min_snr_weights(noise_schedule, timesteps, gamma=5.0, floor=0.1)
    assert torch.allclose(weights[2], 0.1 / snr[999]) and 20 < weights[2] < 22  # the x0 loss weighted by 0.1
    assert weights[1] == 1.0 and weights[0] < 0.01  # SNR 0.38 lies between floor and gamma; t=0 is clean


def test_attribute_labels_follow_the_words_the_caption_kept():
    scene = Scene("star", "red", "blue", count=2, size="small", position="on the left")
    full = attribute_labels(scene, scene.caption())
    assert {name: ATTRIBUTES[name][index] for name, index in full.items()} == {
        "colour": "red", "shape": "star", "background": "blue", "position": "on the left", "size": "small", "count": 2}
    short = attribute_labels(scene, "two red stars on a blue background")
    assert ATTRIBUTES["position"][short["position"]] == "none" and ATTRIBUTES["size"][short["size"]] == "none"


def test_the_attribute_head_learns_to_read_positions_from_the_text_encoder():
    """A few steps of the attribute loss alone: the head reads "left" and "right" from the encoder's output."""
    pipe = make_tiny_pipeline(make_tiny_vae())
    text_encoder, tokenizer = pipe.text_encoder.train(), pipe.tokenizer
    scenes = [Scene("circle", "red", "blue", position=p) for p in ("on the left", "on the right")]
    captions = [s.caption() for s in scenes]
    rows = [attribute_labels(s, c) for s, c in zip(scenes, captions)]
    labels = {name: torch.tensor([row[name] for row in rows]) for name in ATTRIBUTES}
    tokens = tokenizer(captions, padding="max_length", max_length=tokenizer.model_max_length,
                       return_tensors="pt").input_ids
    head = AttributeHead(text_encoder.config.hidden_size)
    optimizer = torch.optim.Adam([*text_encoder.parameters(), *head.parameters()], lr=3e-3)
    torch.manual_seed(0)

    def loss():
        return head.loss(text_encoder(tokens).pooler_output, labels)

    first = loss().item()
    for _ in range(30):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    assert loss().item() < 0.5 * first
    start = sum(len(ATTRIBUTES[name]) for name in list(ATTRIBUTES)[:3])  # the position logits follow these
    logits = head(text_encoder(tokens).pooler_output)[:, start:start + len(ATTRIBUTES["position"])]
    assert logits.argmax(dim=1).tolist() == labels["position"].tolist()
