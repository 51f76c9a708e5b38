"""latent_lab/lessons.py: lesson files round trip, and hostile ones are refused clearly."""

import base64
import json

import numpy as np
import pytest

from latent_lab import lessons
from latent_lab.checks import InputError
from latent_lab.imaging import ImageError
from tests.test_imaging import png_header_only
from tests.conftest import photo_like, pixels


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
    (hostile(view="rm -rf"), InputError, "tab called 'rm -rf', which this app does not have"),
    (hostile(view="sigma"), InputError, "tab called 'sigma', which this app does not have"),
    (hostile(settings={"seed": 1}).replace('"seed": 1', '"seed": ' + "9" * 5000), InputError, "at most 20 digits"),
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
     "not a PNG"),
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


@pytest.mark.parametrize("first_chunk", [b"", b"a chunk before the header"])
def test_lesson_refuses_pictures_that_declare_too_many_pixels(first_chunk):
    """Four 4000x4000 pictures of a few bytes each: their sizes are summed before any is decoded."""
    bomb = base64.b64encode(png_header_only(4000, 4000, first_chunk)).decode()
    text = hostile(pictures={f"bomb{i}": bomb for i in range(4)})
    with pytest.raises(ImageError, match="megapixels in all"):
        lessons.load_lesson(text)


def test_lesson_checks_its_model_and_tab_against_the_app():
    text = lessons.save_lesson("sample", {"model": "nope"}, {})
    with pytest.raises(InputError, match="model 'nope', which this app does not have"):
        lessons.load_lesson(text, models=("latent-lab-vae",))
    with pytest.raises(InputError, match="does not have"):
        lessons.load_lesson(text, views=("encode",))
    assert lessons.load_lesson(text, views=("sample",), models=("nope",))[1] == {"model": "nope"}
