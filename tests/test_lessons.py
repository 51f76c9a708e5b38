import base64
import json

import imageio.v2 as imageio
import numpy as np
import pytest
import torch

from latent_lab import lab, lessons
from latent_lab.imaging import ImageError
from latent_lab.lab import InputError
from tests.conftest import make_tiny_pipeline, make_tiny_vae, photo_like

SOURCE = "tiny-test-vae"


@pytest.fixture
def files(tmp_path):
    a, b, c = tmp_path / "a.png", tmp_path / "b.jpg", tmp_path / "c.png"
    photo_like(96, 64, seed=1).save(a)
    photo_like(120, 90, seed=2).save(b)
    photo_like(64, 64, seed=3).save(c)
    return a, b, c


@pytest.fixture(scope="module")
def point_vae():
    """A tiny autoencoder without σ."""
    from latent_lab.training.train_vae import make_point_posterior
    vae = make_tiny_vae(seed=1)
    make_point_posterior(vae)
    return vae


def pixels(picture):
    return np.asarray(picture, dtype=np.int16)


def close(first, second, tolerance=2):
    """Equal up to float rounding (pictures decoded in different batches)."""
    return np.abs(pixels(first) - pixels(second)).max() <= tolerance


# 1. Channel traversal

@pytest.mark.parametrize("unit", ["sigma", "spread"])
def test_traversal_zero_offset_is_the_reconstruction_and_changes_grow(tiny_vae, photo_file, unit):
    result = lessons.traverse_view(tiny_vae, SOURCE, photo_file, channel=2, low=-4, high=4, steps=5, unit=unit)
    summary = result.summary
    assert summary["offsets"] == [-4.0, -2.0, 0.0, 2.0, 4.0] and summary["unit"] == unit
    assert len(result.frames) == 5 and result.frames[0].size == (96, 64)
    assert result.strip.size == (5 * 96 + 4 * 6, 64)
    reconstruction = lab.encode_view(tiny_vae, SOURCE, photo_file).reconstruction
    assert close(result.frames[2], reconstruction) and close(result.reconstruction, reconstruction)
    changes = summary["pixel_change"]
    assert changes[2] < 0.01 < changes[1] < changes[0] and changes[2] < changes[3] < changes[4]
    assert summary["channel"] == 2 and summary["model"] == SOURCE and summary["region"] is None
    again = lessons.traverse_view(tiny_vae, SOURCE, photo_file, channel=2, low=-4, high=4, steps=5, unit=unit)
    assert np.array_equal(pixels(again.strip), pixels(result.strip))


def test_traversal_in_a_region_leaves_far_pixels_alone(tiny_vae, photo_file):
    # latent 8x12 cells; change only the top-left 2x3 cells (16x24 pixels)
    region = lessons.traverse_view(tiny_vae, SOURCE, photo_file, channel=0, low=0, high=8, steps=2,
                                   unit="spread", region=(0, 0, 2, 3))
    whole = lessons.traverse_view(tiny_vae, SOURCE, photo_file, channel=0, low=0, high=8, steps=2, unit="spread")
    assert region.summary["region"] == [0, 0, 2, 3]
    moved = np.abs(pixels(region.frames[1]) - pixels(region.frames[0])).mean(axis=2)  # (64, 96)
    assert moved[:16, :24].mean() > 5 * moved[40:, 60:].mean()
    assert 0 < region.summary["pixel_change"][1] < whole.summary["pixel_change"][1]


@pytest.mark.parametrize("change, message", [
    (dict(channel=4), "Channel"), (dict(channel=-1), "Channel"), (dict(low=-11), "Lowest offset"),
    (dict(high=float("nan")), "Highest offset"), (dict(steps=1), "Steps"), (dict(steps=17), "Steps"),
    (dict(unit="pixels"), "sigma' or 'spread"), (dict(region=(0, 0, 9, 2)), "Region bottom"),
    (dict(region=(3, 0, 3, 2)), "Region bottom"), (dict(region=(0, 0, 2)), "four whole numbers"),
    (dict(region="0,0,2,2"), "four whole numbers"), (dict(region=(0, 12, 2, 13)), "Region left"),
])
def test_traversal_refuses_bad_settings(tiny_vae, photo_file, change, message):
    with pytest.raises(InputError, match=message):
        lessons.traverse_view(tiny_vae, SOURCE, photo_file, **{"channel": 0, "low": -1, "high": 1, "steps": 2, **change})


def test_traversal_in_sigma_needs_a_model_with_sigma(point_vae, photo_file):
    with pytest.raises(InputError, match="no σ .* 'spread'"):
        lessons.traverse_view(point_vae, SOURCE, photo_file, channel=0, unit="sigma", steps=2)
    result = lessons.traverse_view(point_vae, SOURCE, photo_file, channel=0, unit="spread", steps=2)
    assert len(result.frames) == 2


# 3. Three ways from A to B

def test_three_ways_ends_norms_and_crossfade(tiny_vae, files):
    a, b, _ = files
    result = lessons.three_ways_view(tiny_vae, SOURCE, a, b, steps=4)
    assert set(result.frames) == {"lerp", "slerp", "crossfade"}
    assert all(len(frames) == 4 and frames[0].size == (96, 64) for frames in result.frames.values())
    image_a = lab.prepare(tiny_vae, a, 512)
    image_b = lab.prepare(tiny_vae, b, 512, size=image_a.size)
    crossfade = result.frames["crossfade"]
    assert np.array_equal(pixels(crossfade[0]), pixels(image_a)) and np.array_equal(pixels(crossfade[-1]), pixels(image_b))
    reconstruction_a = lab.encode_view(tiny_vae, SOURCE, a).reconstruction
    assert close(result.frames["lerp"][0], reconstruction_a) and close(result.frames["slerp"][0], reconstruction_a)
    norms = result.summary["latent_norms"]
    assert result.summary["methods"] == ["lerp", "slerp", "crossfade"] and set(norms) == set(result.summary["methods"])
    assert norms["lerp"][0] == norms["slerp"][0] == norms["crossfade"][0]
    assert norms["lerp"][-1] == norms["slerp"][-1] == norms["crossfade"][-1]
    assert norms["lerp"][1] < norms["slerp"][1]  # the straight line sags inside the sphere
    assert len(result.rows) == 3 and result.rows[2][1].startswith("crossfade")


# 4. Latent arithmetic

def test_arithmetic_identities(tiny_vae, files):
    a, b, c = files
    zero = lessons.arithmetic_view(tiny_vae, SOURCE, a, b, c, strength=0)
    reconstruction_a = zero.reconstructions[0]
    assert np.array_equal(pixels(zero.result), pixels(reconstruction_a))
    assert zero.summary["result_norm"] == zero.summary["a_norm"]
    same = lessons.arithmetic_view(tiny_vae, SOURCE, a, b, b, strength=2.5)
    assert np.array_equal(pixels(same.result), pixels(reconstruction_a)) and same.summary["difference_norm"] == 0
    moved = lessons.arithmetic_view(tiny_vae, SOURCE, a, b, c, strength=1)
    assert not np.array_equal(pixels(moved.result), pixels(reconstruction_a))
    assert [p.size for p in moved.reconstructions] == [(96, 64)] * 3  # B and C take A's size
    assert moved.summary["strength"] == 1 and moved.summary["model"] == SOURCE
    with pytest.raises(InputError, match="Strength"):
        lessons.arithmetic_view(tiny_vae, SOURCE, a, b, c, strength=3.5)


# 5 and 6. Schedulers and anatomy, on a tiny pipeline

@pytest.fixture(scope="module")
def pipe():
    return make_tiny_pipeline(make_tiny_vae())


def test_compare_schedulers_gives_one_picture_per_scheduler(pipe):
    names = ["DDIMScheduler", "EulerDiscreteScheduler", "DPMSolverMultistepScheduler"]
    result = lessons.compare_schedulers(pipe, "a red circle", names, steps=2, guidance_scale=3, seed=7, model="tiny")
    assert len(result.gallery) == 3
    assert all(picture.size == (64, 64) for picture, _ in result.gallery)
    assert result.gallery[1][1].startswith("EulerDiscreteScheduler: 2 steps, ") and result.gallery[1][1].endswith(" s")
    summary = result.summary
    assert [r["scheduler"] for r in summary["results"]] == names and all(r["seconds"] > 0 for r in summary["results"])
    assert (summary["prompt"], summary["seed"], summary["steps"]) == ("a red circle", 7, 2)
    again = lessons.compare_schedulers(pipe, "a red circle", names[:1], steps=2, guidance_scale=3, seed=7)
    assert np.array_equal(pixels(again.gallery[0][0]), pixels(result.gallery[0][0]))
    json.dumps(summary)


@pytest.mark.parametrize("names, message", [
    ([], "1 to 6"), (["DDIMScheduler", "NoSuchScheduler"], "Unknown scheduler"), ([3], "class names"),
    (["DDIMScheduler", "EulerDiscreteScheduler", "DPMSolverMultistepScheduler", "LMSDiscreteScheduler",
      "HeunDiscreteScheduler", "PNDMScheduler", "DDPMScheduler"], "1 to 6"),
])
def test_compare_schedulers_refuses_bad_names_before_running(pipe, names, message):
    with pytest.raises(InputError, match=message):
        lessons.compare_schedulers(pipe, "a cat", names, steps=2)


def test_anatomy_lists_the_parts_as_json(pipe):
    report = lessons.anatomy(pipe)
    parts = {entry["name"]: entry for entry in report["components"]}
    assert {"unet", "vae", "text_encoder", "tokenizer", "scheduler"} <= set(parts)
    assert "safety_checker" not in parts  # None components are skipped
    for name in ("unet", "vae", "text_encoder"):
        assert parts[name]["parameters"] > 0 and parts[name]["dtype"] == "float32"
    assert parts["vae"]["parameters"] == sum(p.numel() for p in pipe.vae.parameters())
    config = parts["scheduler"]["config"]
    assert parts["scheduler"]["class"] == "DDIMScheduler" and config["beta_schedule"] == "scaled_linear"
    assert not any(key.startswith("_") for key in config)
    assert report["total_parameters"] == sum(parts[n]["parameters"] for n in ("unet", "vae", "text_encoder"))
    assert json.loads(json.dumps(report, allow_nan=False)) == report


def test_json_safe_converts_config_values():
    value = {"betas": (0.1, 0.2), "array": np.arange(3), "scalar": np.float32(0.5), "_private": 1,
             "nested": {"t": torch.tensor([1, 2])}, "inf": float("inf"), "none": None}
    assert lessons.json_safe(value) == {"betas": [0.1, 0.2], "array": [0, 1, 2], "scalar": 0.5,
                                        "nested": {"t": [1, 2]}, "inf": "inf", "none": None}


# 7. Export

def test_mp4_has_every_frame_with_even_sides(tmp_path):
    frames = [photo_like(33, 21, seed=s) for s in range(5)]
    path = lessons.save_mp4(frames, tmp_path / "walk.mp4", fps=4)
    assert path.exists() and path.stat().st_size > 0
    read = imageio.mimread(path)
    assert len(read) == 5 and read[0].shape == (20, 32, 3)
    with pytest.raises(InputError, match="same size"):
        lessons.save_mp4([photo_like(32, 32), photo_like(48, 32)], tmp_path / "bad.mp4")
    with pytest.raises(InputError, match="no frames"):
        lessons.save_mp4([], tmp_path / "empty.mp4")


PICTURES = {"image_a": photo_like(96, 64, seed=1), "image_b": photo_like(64, 64, seed=2)}
SETTINGS = {"channel": 2, "low": -3.0, "unit": "sigma", "region": [0, 0, 2, 3], "method": None, "bounce": True}


def test_lesson_round_trip():
    text = lessons.save_lesson("traverse", SETTINGS, PICTURES)
    view, settings, pictures = lessons.load_lesson(text)
    assert view == "traverse" and settings == SETTINGS and set(pictures) == set(PICTURES)
    assert all(np.array_equal(pixels(pictures[n]), pixels(PICTURES[n])) for n in PICTURES)
    assert lessons.load_lesson(text.encode("utf-8"))[1] == SETTINGS
    assert lessons.save_lesson("traverse", {"region": (0, 0, 2, 3)}, {})  # tuples become lists


def hostile(**change):
    lesson = json.loads(lessons.save_lesson("traverse", SETTINGS, {"image_a": photo_like(32, 32)}))
    lesson.update(change)
    return json.dumps(lesson)


@pytest.mark.parametrize("text, error, message", [
    (hostile(view="rm -rf"), InputError, "Unknown view"),
    (hostile(version=2), InputError, "version 2"),
    (hostile(format="other"), InputError, "not a lesson file"),
    (hostile(settings=[1, 2]), InputError, "settings must be a table"),
    (hostile(settings={"low": {"nested": 1}}), InputError, "Setting 'low'"),
    (hostile(settings={"x": [[1]]}), InputError, "Setting 'x'"),
    (hostile(settings={"x": "y" * 3000}), InputError, "longer than"),
    (hostile(pictures={"image_a": "not base64!"}), ImageError, "not valid base64"),
    (hostile(pictures={"image_a": 12}), ImageError, "not valid base64"),
    (hostile(pictures={"image_a": base64.b64encode(b"GIF89a" + b"\0" * 40).decode()}), ImageError, "not a PNG"),
    (hostile(pictures={"image_a": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 40).decode()}), ImageError,
     "could not be read"),
    (hostile(pictures={f"p{i}": "" for i in range(40)}), InputError, "at most 32 pictures"),
    ('{"format": "latent-lab-lesson", "version": 1, "view": "sample", "settings": {"x": NaN}, "pictures": {}}',
     InputError, "finite"),
    ("{not json", InputError, "not valid JSON"),
    (b"\xff\xfe\x00", InputError, "UTF-8"),
    ("[" * 100_000 + "]" * 100_000, InputError, "not valid JSON|not a lesson"),
    (" " * (lessons.MAX_LESSON_BYTES + 1), InputError, "too large"),
])
def test_hostile_lessons_are_refused_clearly(text, error, message):
    with pytest.raises(error, match=message):
        lessons.load_lesson(text)


def test_lesson_pictures_go_through_load_image():
    from PIL import Image
    small = Image.new("RGB", (4, 4))
    text = lessons.save_lesson("sample", {}, {"tiny": small})
    with pytest.raises(ImageError, match="only 4x4 pixels"):
        lessons.load_lesson(text)


def test_lesson_refuses_pictures_that_declare_too_many_pixels():
    import io
    import struct
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, format="PNG")
    png = bytearray(buffer.getvalue())
    png[16:24] = struct.pack(">II", 6000, 6000)  # 36 megapixels declared, a few bytes sent
    text = hostile(pictures={"bomb": base64.b64encode(bytes(png)).decode()})
    with pytest.raises(ImageError, match="megapixels"):
        lessons.load_lesson(text)
