"""The real app on its embedded VAE, called through its public API with gradio_client."""

import math
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from latent_lab.config import EXAMPLES

PHOTO = str(EXAMPLES / "coffee.jpg")
OTHER = str(EXAMPLES / "chelsea.jpg")


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def pixels(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def test_encode(client):
    reconstruction, _plot, summary = client.predict(handle_file(PHOTO), api_name="/encode")
    width, height = Image.open(PHOTO).size
    assert summary["latent_shape"] == [4, height // 8, width // 8]
    assert pixels(reconstruction).shape == (height // 8 * 8, width // 8 * 8, 3)
    assert summary["psnr_db"] > 16  # guards against regressions; see the model card for held-out quality
    assert 0 < summary["sigma_min"] <= summary["sigma_mean"] <= summary["sigma_max"]
    assert summary["kl_per_dim"] > 0 and math.isfinite(summary["mu_std"])
    assert summary["model"] == "latent-lab-vae"


def test_sample_same_seed_same_samples_and_sigma_scale_spreads(client):
    def run(sigma_scale, seed):
        gallery, _plot, summary = client.predict(handle_file(PHOTO), 4, sigma_scale, seed, api_name="/sample")
        return [pixels(item["image"]) for item in gallery], summary
    first, summary = run(1.0, 11)
    again, _ = run(1.0, 11)
    _, wide = run(4.0, 11)
    assert len(first) == 4 and summary["n_samples"] == 4 and summary["seed"] == 11
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert wide["pixel_std_mean"] > summary["pixel_std_mean"] > 0


def test_interpolate_ends_are_the_reconstructions(client):
    frames, animation, _plot, summary = client.predict(handle_file(PHOTO), handle_file(OTHER), 6, "slerp",
                                                       api_name="/interpolate")
    assert summary["method"] == "slerp" and summary["steps"] == 6 and len(summary["latent_norms"]) == 6
    assert len(frames) == 6 and animation.endswith(".gif")
    reconstruction, _plot, _summary = client.predict(handle_file(PHOTO), api_name="/encode")
    difference = np.abs(pixels(frames[0]["image"]) - pixels(reconstruction))
    assert difference.max() <= 2 and difference.mean() < 0.05


def test_channels(client):
    _plot, _histogram, summary = client.predict(handle_file(PHOTO), api_name="/channels")
    assert len(summary["channels"]) == 4
    assert all({"mean", "std", "min", "max"} <= set(c) for c in summary["channels"])


# Sliders check their range before our handlers do (gradio's sentence names the limit);
# our handlers check everything again, for fields without such limits.
@pytest.mark.parametrize("api_name, arguments, message", [
    ("/sample", (PHOTO, 99, 1.0, 0), "greater than maximum value 16"),
    ("/sample", (PHOTO, 4, -3, 0), "less than minimum value 0"),
    ("/sample", (PHOTO, 4, 1.0, -7), "less than minimum value 0"),
    ("/interpolate", (PHOTO, OTHER, 1, "lerp"), "less than minimum value 2"),
    ("/interpolate", (PHOTO, OTHER, 4, "warp"), "lerp"),
])
def test_bad_numbers_get_a_clear_error_and_the_server_goes_on(client, api_name, arguments, message):
    files = [handle_file(a) if isinstance(a, str) and a.endswith(".jpg") else a for a in arguments]
    with pytest.raises(Exception, match=message):
        client.predict(*files, api_name=api_name)
    assert client.predict(handle_file(PHOTO), api_name="/channels")[-1]["channels"]


def test_a_non_picture_gets_a_clear_error(client, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    with pytest.raises(Exception, match="PNG, JPEG"):
        client.predict(handle_file(str(bad)), api_name="/encode")


def test_schedulers_lists_the_pipelines_compatible_classes(client):
    default, summary = client.predict(api_name="/schedulers")
    assert {"DDIMScheduler", "EulerDiscreteScheduler", "DPMSolverMultistepScheduler"} <= set(summary["schedulers"])
    assert default["value"] == "DPMSolverMultistepScheduler"  # the dropdown update: its choices and value


def generate_call(client, scheduler="DDIMScheduler", seed=3, prompt="a red circle on a blue background"):
    return client.predict(prompt, "", scheduler, 4, 5.0, seed, api_name="/generate")


def test_generate_is_seeded_and_scheduler_dependent(client):
    picture, summary = generate_call(client)
    again, _ = generate_call(client)
    other, _ = generate_call(client, scheduler="EulerDiscreteScheduler")
    assert {"scheduler", "steps", "seed", "guidance_scale", "model", "seconds"} <= set(summary)
    assert summary["scheduler"] == "DDIMScheduler" and summary["steps"] == 4 and summary["seconds"] > 0
    width, height = summary["width"], summary["height"]
    assert pixels(picture).shape == (height, width, 3)
    assert np.array_equal(pixels(picture), pixels(again))
    assert not np.array_equal(pixels(picture), pixels(other))


def test_two_clients_with_different_schedulers_at_once_get_their_own_pictures(client):
    from concurrent.futures import ThreadPoolExecutor
    alone = {name: pixels(generate_call(client, scheduler=name)[0]) for name in ("DDIMScheduler", "EulerDiscreteScheduler")}
    clients = {name: Client(client.src, verbose=False) for name in alone}
    with ThreadPoolExecutor(2) as pool:
        futures = {name: pool.submit(generate_call, clients[name], name) for name in alone}
        together = {name: pixels(future.result()[0]) for name, future in futures.items()}
    # Equal up to float rounding: two requests at once share the CPU threads differently.
    for name in alone:
        difference = np.abs(alone[name] - together[name])
        assert difference.max() <= 2 and difference.mean() < 0.1, (name, difference.max(), difference.mean())


def test_generate_refuses_unknown_schedulers_and_allows_an_empty_prompt(client):
    with pytest.raises(Exception, match="Unknown scheduler 'Nope'"):
        generate_call(client, scheduler="Nope")
    _picture, summary = generate_call(client, prompt="")
    assert "unconditional" in " ".join(summary["notes"])


def test_the_model_selector_switches_the_vae():
    from ui import channels, encode, sample
    _reconstruction, _plot, summary = encode.on_encode(PHOTO, "latent-lab-ae")
    assert summary["model"] == "latent-lab-ae"
    assert summary["sigma_mean"] is None and "no σ" in summary["note"]  # a plain autoencoder: one point
    _samples, _plot, sampled = list(sample.on_sample(PHOTO, 3, 2.0, 0, "latent-lab-ae"))[-1]  # it streams
    assert sampled["pixel_std_mean"] == 0 and "no σ" in sampled["note"]
    assert channels.on_channels(PHOTO, "latent-lab-vae-strong-kl")[-1]["model"] == "latent-lab-vae-strong-kl"
    with pytest.raises(Exception, match="Unknown model 'nope'. Choose one of: latent-lab-ae"):
        encode.on_encode(PHOTO, "nope")


def test_compare_puts_the_family_side_by_side(client):
    rows, _plot, summary = client.predict(handle_file(PHOTO), handle_file(OTHER), 5, 1, api_name="/compare")
    names = [m["model"] for m in summary["models"]]
    assert names == ["latent-lab-ae", "latent-lab-vae", "latent-lab-vae-strong-kl"] and len(rows) == 3
    by_name = {m["model"]: m for m in summary["models"]}
    assert not by_name["latent-lab-ae"]["has_sigma"] and by_name["latent-lab-vae"]["has_sigma"]
    # The stronger the KL term, the closer the posteriors sit to N(0, I).
    assert by_name["latent-lab-vae-strong-kl"]["kl_per_dim"] < by_name["latent-lab-vae"]["kl_per_dim"]
    assert all(m["psnr_db"] > 14 for m in summary["models"])
    # The help text says the paths look like crossfades: each middle frame is near the crossfade.
    assert all(min(d for d in m["crossfade_psnr_db"] if d is not None) > 20 for m in summary["models"])


SCENES = EXAMPLES / "scenes"


def test_traverse_walks_one_channel(client):
    frames, animation, video, _plot, summary = client.predict(
        handle_file(PHOTO), 2, -4, 4, 5, "spread", "", api_name="/traverse")
    assert summary["channel"] == 2 and summary["unit"] == "spread" and summary["offsets"] == [-4, -2, 0, 2, 4]
    assert len(frames) == 5 and animation.endswith(".gif") and video.endswith(".mp4")
    changes = summary["pixel_change"]
    assert changes[2] == 0 and changes[0] > 1 and changes[4] > 1  # offset 0 is the reconstruction itself
    _frames, _gif, _video, _plot, boxed = client.predict(handle_file(PHOTO), 2, -4, 4, 5, "spread", "0, 0, 8, 8",
                                                          api_name="/traverse")
    assert boxed["region"] == [0, 0, 8, 8] and boxed["pixel_change"][0] < changes[0]
    with pytest.raises(Exception, match="Region must be four whole numbers"):
        client.predict(handle_file(PHOTO), 2, -4, 4, 5, "spread", "top left", api_name="/traverse")


def test_three_ways_and_the_video(client):
    rows, _plot, summary = client.predict(handle_file(PHOTO), handle_file(OTHER), 5, api_name="/three_ways")
    assert summary["methods"] == ["lerp", "slerp", "crossfade"] and len(rows) == 3
    norms = summary["latent_norms"]
    assert norms["lerp"][0] == norms["slerp"][0] == norms["crossfade"][0]
    assert norms["lerp"][2] < norms["slerp"][2]  # the straight line cuts inside the sphere
    video = client.predict(handle_file(PHOTO), handle_file(OTHER), 6, "slerp", api_name="/interpolate_video")
    import imageio.v2 as imageio
    assert video.endswith(".mp4") and len(imageio.mimread(video)) == 6


def test_arithmetic_turns_the_red_circle_green(client):
    files = [handle_file(str(SCENES / f"{name}.png")) for name in
             ("red-circle-on-blue", "red-circle-on-yellow", "green-circle-on-yellow")]
    result, parts, summary = client.predict(*files, 1.0, api_name="/arithmetic")
    assert summary["strength"] == 1.0 and len(parts) == 3
    centre = pixels(result)[112:144, 112:144].mean(axis=(0, 1))  # the circle's middle
    corner = pixels(result)[8:40, 8:40].mean(axis=(0, 1))  # the background
    assert centre[1] > centre[0] + 40, centre  # green, no longer red
    assert corner[2] > corner[0] + 80, corner  # still blue
    unchanged, _parts, _summary = client.predict(*files, 0.0, api_name="/arithmetic")
    reconstruction, _plot, _summary = client.predict(files[0], api_name="/encode")
    assert np.abs(pixels(unchanged) - pixels(reconstruction)).max() <= 2


def test_scheduler_comparison_and_anatomy(client):
    gallery, summary = client.predict("a red circle on a blue background", ["DDIMScheduler", "EulerDiscreteScheduler"],
                                      3, 5.0, 7, api_name="/compare_schedulers")
    assert [r["scheduler"] for r in summary["results"]] == ["DDIMScheduler", "EulerDiscreteScheduler"]
    assert len(gallery) == 2 and gallery[0]["caption"].startswith("DDIMScheduler: 3 steps")
    parts = client.predict(api_name="/anatomy")
    names = {c["name"]: c for c in parts["components"]}
    assert {"unet", "vae", "text_encoder", "tokenizer", "scheduler"} <= set(names)
    from ui import common
    served = common.pipe()
    for name in ("unet", "vae", "text_encoder"):  # counted on the very weights the app runs
        assert names[name]["parameters"] == sum(p.numel() for p in getattr(served, name).parameters()), name
    assert names["scheduler"]["config"]["num_train_timesteps"] == 1000


def test_a_lesson_saves_a_tab_and_opens_it_again(tmp_path):
    import gradio as gr
    from ui import lessons, widgets
    with gr.Blocks():
        fields = {"sample": dict(picture=widgets.image_input("p"), n_samples=gr.Slider(1, 16, step=1),
                                 seed=gr.Number(precision=0, minimum=0)),
                  "encode": dict(picture=widgets.image_input("p"))}
    titles = {"sample": "Sample", "encode": "Encode"}
    photo, other = Path(PHOTO).read_bytes(), Path(OTHER).read_bytes()  # as ImageFile hands them over
    path, message = lessons.on_save_lesson(fields, "sample", "latent-lab-vae", photo, 5, 42, other)
    assert "1 picture" in message
    lesson = Path(path).read_bytes()
    tabs, view, model, picture, n_samples, seed, other, status = lessons.on_open_lesson(fields, titles, lesson)
    assert view == "sample" and model == "latent-lab-vae" and (n_samples, seed) == (5, 42)
    assert np.array_equal(pixels(picture), pixels(PHOTO)) and "Sample" in status
    assert other == {"__type__": "update"}  # the other tabs are left alone
    bad = b'{"format": "latent-lab-lesson", "version": 1, "view": "rm -rf", "settings": {}, "pictures": {}}'
    with pytest.raises(Exception, match="does not have"):
        lessons.on_open_lesson(fields, titles, bad)
    # Every setting is checked against the widget it fills, when the file is opened.
    for change, message in ((b'"n_samples": 5', b'"n_samples": 99'), (b'"seed": 42', b'"seed": -1'),
                            (b'"seed": 42', b'"seed": 4.5'), (b'"model": "latent-lab-vae"', b'"model": "nope"'),
                            (b'"seed": 42', b'"seed": 42, "speed": 1')):
        assert change in lesson, change
        with pytest.raises(gr.Error):
            lessons.on_open_lesson(fields, titles, lesson.replace(change, message))


WALK_ENDS = ("a red circle on a white background", "a blue square on a yellow background")


def test_latent_walk_ends_are_what_generate_makes(client):
    gallery, animation, video, _plot, summary = client.predict(*WALK_ENDS, 3, 5, 4, "DDIMScheduler", 4, 5.0,
                                                               api_name="/latent_walk")
    assert summary["frames"] == 4 and len(gallery) == 4 and len(summary["step_change"]) == 3
    assert {"max_over_mean", "seconds", "crossfade_psnr_db"} <= set(summary)
    assert animation.endswith(".gif") and video.endswith(".mp4")
    for frame, prompt, seed in ((gallery[0], WALK_ENDS[0], 3), (gallery[-1], WALK_ENDS[1], 5)):
        alone, _ = client.predict(prompt, "", "DDIMScheduler", 4, 5.0, seed, api_name="/generate")
        assert np.array_equal(pixels(frame["image"]), pixels(alone))
    vae_frames, _plot, vae_summary = client.predict(*WALK_ENDS, 3, 5, 4, "DDIMScheduler", 4, 5.0, api_name="/vae_walk")
    assert len(vae_frames) == 4 and vae_summary["crossfade_psnr_db"][0] is None
    assert np.array_equal(pixels(vae_frames[0]["image"]).shape, pixels(gallery[0]["image"]).shape)


@pytest.mark.parametrize("change, message", [
    (dict(frames=1), "less than minimum value 2|Frames"), (dict(frames=33), "greater than maximum value 32|Frames"),
    (dict(scheduler="Nope"), "Unknown scheduler 'Nope'"), (dict(prompt_a="", prompt_b=""), "Both prompts are empty"),
])
def test_latent_walk_refuses_bad_input_with_a_sentence(client, change, message):
    values = dict(prompt_a=WALK_ENDS[0], prompt_b=WALK_ENDS[1], seed_a=0, seed_b=1, frames=3,
                  scheduler="DDIMScheduler", steps=2, guidance_scale=5.0) | change
    with pytest.raises(Exception, match=message):
        client.predict(*values.values(), api_name="/latent_walk")


def test_the_vae_alone_decodes_the_starting_noise_to_texture(client):
    prior, diffusion, summary = client.predict(WALK_ENDS[0], 3, "DDIMScheduler", 20, 5.0, api_name="/prior_vs_diffusion")
    generated, _ = client.predict(WALK_ENDS[0], "", "DDIMScheduler", 20, 5.0, 3, api_name="/generate")
    assert np.array_equal(pixels(diffusion), pixels(generated))
    assert pixels(prior).shape == pixels(diffusion).shape
    texture, picture = summary["prior_decoded"], summary["diffusion"]
    assert texture["neighbour_difference"] > 1.3 * picture["neighbour_difference"], summary
