"""Lesson files: one tab's pictures and settings in one JSON file that alone reproduces the
demo. The file is untrusted when it comes back: everything in it is checked before use."""

import base64
import binascii
import io
import json
import math

from PIL import Image

from latent_lab import imaging
from latent_lab.checks import InputError, shorten


LESSON_FORMAT = "latent-lab-lesson"
LESSON_VERSION = 1
LESSON_VIEWS = ("encode", "sample", "interpolate", "channels", "traverse", "arithmetic", "compare", "digits",
                "generate")  # the tabs a lesson can open
MAX_LESSON_BYTES = 20_000_000
MAX_PICTURES = 32
MAX_LESSON_PIXELS = 32_000_000  # all pictures together: a small PNG can declare a huge picture
MAX_SETTINGS = 64
MAX_TEXT = 2000  # characters in one setting or name
MAX_DIGITS = 20  # in one whole number (seeds are at most 10)


def _check_view(view, views=LESSON_VIEWS):
    if not isinstance(view, str) or view not in views:
        shown = repr(view)[:40]
        raise InputError(f"This lesson is for a tab called {shown}, which this app does not have. "
                         f"Lessons open one of: {', '.join(views)}.")
    return view


def _check_setting(name, value):
    """A setting is a number, text, true/false, empty, or a flat list of those."""
    plain = (bool, int, float, str, type(None))
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, plain):
            raise InputError(f"Setting {shorten(name)} must be a number, text or a list of them; got {type(item).__name__}.")
        if isinstance(item, float) and not math.isfinite(item):
            raise InputError(f"Setting {shorten(name)} must be a finite number; got {shorten(item)}.")
        if isinstance(item, str) and len(item) > MAX_TEXT:
            raise InputError(f"Setting {shorten(name)} is longer than {MAX_TEXT} characters.")
    if len(items) > MAX_SETTINGS:
        raise InputError(f"Setting {shorten(name)} has more than {MAX_SETTINGS} values.")
    return value


def _check_settings(settings):
    if not isinstance(settings, dict):
        raise InputError("A lesson's settings must be a table of names and values.")
    if len(settings) > MAX_SETTINGS:
        raise InputError(f"A lesson has at most {MAX_SETTINGS} settings; this one has {len(settings)}.")
    for name, value in settings.items():
        if not isinstance(name, str) or not 0 < len(name) <= 100:
            raise InputError(f"Setting names must be short text; got {shorten(name)}.")
        _check_setting(name, list(value) if isinstance(value, tuple) else value)
    return {name: list(value) if isinstance(value, tuple) else value for name, value in settings.items()}


def _check_picture_names(names):
    if len(names) > MAX_PICTURES:
        raise InputError(f"A lesson holds at most {MAX_PICTURES} pictures; this one has {len(names)}.")
    for name in names:
        if not isinstance(name, str) or not 0 < len(name) <= 100:
            raise InputError(f"Picture names must be short text; got {shorten(name)}.")


def save_lesson(view, settings, pictures, views=LESSON_VIEWS):
    """A lesson as JSON text: the view, its settings and its pictures (PNG, base64), so that the
    file alone reproduces the demo. `pictures` is {name: PIL image}."""
    _check_view(view, views)
    settings = _check_settings(settings)
    _check_picture_names(list(pictures))
    encoded = {}
    for name, picture in pictures.items():
        buffer = io.BytesIO()
        imaging.to_rgb(picture).save(buffer, format="PNG")
        encoded[name] = base64.b64encode(buffer.getvalue()).decode("ascii")
    text = json.dumps({"format": LESSON_FORMAT, "version": LESSON_VERSION, "view": view, "settings": settings,
                       "pictures": encoded}, ensure_ascii=False, indent=1)
    if len(text.encode("utf-8")) > MAX_LESSON_BYTES:
        raise InputError(f"This lesson would be larger than {MAX_LESSON_BYTES // 1_000_000} MB; use fewer or "
                         f"smaller pictures.")
    return text


def _png_pixels(name, png):
    """Width x height of a PNG picture, from its header (Pillow finds it after other chunks too)."""
    try:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as probe:
            width, height = probe.size
    except (OSError, ValueError, SyntaxError, EOFError):
        raise imaging.ImageError(f"Picture {shorten(name)} in this lesson is not a PNG picture.") from None
    return width * height


def _parse_int(digits):
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise InputError(f"A lesson's whole numbers have at most {MAX_DIGITS} digits; one has {len(digits)}.")
    return int(digits)


def _refuse_constant(name):
    raise InputError(f"A lesson may not hold {name}; numbers must be finite.")


def load_lesson(text, views=LESSON_VIEWS, models=None):
    """JSON text (or UTF-8 bytes) of a lesson -> (view, settings, {name: RGB picture}). Everything
    is checked: the file is untrusted, so its pictures go through imaging.load_image. `views` are
    the tabs it may open, `models` (when given) the model names it may choose."""
    if len(text) > MAX_LESSON_BYTES:
        raise InputError(f"This lesson file is larger than {MAX_LESSON_BYTES // 1_000_000} MB, too large to open.")
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("This is not a lesson file: it is not UTF-8 text.") from None
    try:
        lesson = json.loads(text, parse_constant=_refuse_constant, parse_int=_parse_int)
    except (json.JSONDecodeError, RecursionError):
        raise InputError("This is not a lesson file: it is not valid JSON text.") from None
    if not isinstance(lesson, dict) or lesson.get("format") != LESSON_FORMAT:
        raise InputError(f"This is not a lesson file: it lacks \"format\": \"{LESSON_FORMAT}\".")
    if lesson.get("version") != LESSON_VERSION:
        raise InputError(f"This lesson has version {shorten(lesson.get('version'))}; this app reads version "
                         f"{LESSON_VERSION}.")
    view = _check_view(lesson.get("view"), views)
    settings = _check_settings(lesson.get("settings"))
    if models is not None and "model" in settings and settings["model"] not in models:
        raise InputError(f"This lesson uses the model {str(settings['model'])[:80]!r}, which this app does not have. "
                         f"Known models: {', '.join(models)}.")
    encoded = lesson.get("pictures")
    if not isinstance(encoded, dict):
        raise InputError("A lesson's pictures must be a table of names and PNG pictures.")
    _check_picture_names(list(encoded))
    pngs = {}
    for name, data in encoded.items():
        try:
            pngs[name] = base64.b64decode(data, validate=True)
        except (TypeError, ValueError, binascii.Error):
            raise imaging.ImageError(f"Picture {shorten(name)} in this lesson is not valid base64 text.") from None
    # Every picture's size, read from its header, summed before any pixel is decoded.
    total_pixels = sum(_png_pixels(name, png) for name, png in pngs.items())
    if total_pixels > MAX_LESSON_PIXELS:
        raise imaging.ImageError(f"The pictures in this lesson have more than {MAX_LESSON_PIXELS // 1_000_000} "
                                 f"megapixels in all, too many to open.")
    pictures = {name: imaging.load_image(png) for name, png in pngs.items()}
    return view, settings, pictures
