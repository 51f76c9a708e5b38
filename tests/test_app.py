"""The real app on its embedded VAE, called through its public API with gradio_client."""

import math

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
