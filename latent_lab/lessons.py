"""Teaching views: walk one latent channel, compare three ways between two
pictures, do arithmetic on latents, line up schedulers, open up a pipeline; and save a demo
as an MP4 or as a lesson file that alone reproduces it. Like lab.py: files and numbers in,
pictures, figures and a JSON-ready summary out, every number checked."""

import base64
import binascii
from dataclasses import dataclass
import io
import json
import math
import struct

import imageio.v2 as imageio
import numpy as np
from PIL import Image
import torch

from latent_lab import generate, imaging, interpolate, plots, vae as vae_ops
from latent_lab.lab import (TINY_DIFFERENCE, InputError, check_number, model_name, posteriors, prepare,
                            round_summary, strip)

MAX_OFFSET = 10.0  # traversal offsets, in σ or in spreads
UNITS = ("sigma", "spread")


# 1. Channel traversal -------------------------------------------------------------------

@dataclass
class TraverseResult:
    frames: list  # one picture per offset
    strip: Image.Image  # the frames side by side
    reconstruction: Image.Image  # decode of μ, unchanged
    change_plot: object
    summary: dict


def check_region(region, height, width):
    """(top, left, bottom, right) in latent cells, bottom and right exclusive; None: every cell."""
    if region is None:
        return None
    accepted = (f"Region must be four whole numbers (top, left, bottom, right) in latent cells, with "
                f"0 ≤ top < bottom ≤ {height} and 0 ≤ left < right ≤ {width}")
    if isinstance(region, (str, bytes)) or not hasattr(region, "__len__") or len(region) != 4:
        raise InputError(f"{accepted}; got {region!r}.")
    top = check_number(region[0], "Region top", 0, height - 1, integer=True)
    left = check_number(region[1], "Region left", 0, width - 1, integer=True)
    bottom = check_number(region[2], "Region bottom", top + 1, height, integer=True)
    right = check_number(region[3], "Region right", left + 1, width, integer=True)
    return top, left, bottom, right


def traverse_view(vae, source, file, channel=0, low=-3.0, high=3.0, steps=7, unit="sigma", region=None,
                  max_side=512):
    """Add offsets from `low` to `high` to one channel of μ (in a region of cells, or all of them)
    and decode each: what does this channel control? Offsets are in units of each cell's σ
    ("sigma") or of the channel's spread, the std of μ over the channel ("spread")."""
    channels = vae.config.latent_channels
    channel = check_number(channel, "Channel", 0, channels - 1, integer=True)
    low = check_number(low, "Lowest offset", -MAX_OFFSET, MAX_OFFSET)
    high = check_number(high, "Highest offset", -MAX_OFFSET, MAX_OFFSET)
    steps = check_number(steps, "Steps", 2, 16, integer=True)
    if unit not in UNITS:
        raise InputError(f"Unit must be 'sigma' or 'spread', not {unit!r}.")
    image = prepare(vae, file, max_side)
    posterior = posteriors.get(vae, image)
    mean = posterior.mean[0]  # (C, h, w)
    top, left, bottom, right = check_region(region, *mean.shape[1:]) or (0, 0, *mean.shape[1:])

    # 1. The size of one unit in every cell of the channel: its own σ, or the channel's spread.
    if unit == "sigma":
        if not posterior.has_sigma:
            raise InputError("This model has no σ (its encoder maps a picture to one point), so there is "
                             "no σ to step in. Use the unit 'spread' instead.")
        unit_map = posterior.std[0, channel]  # (h, w)
    else:
        unit_map = torch.full_like(mean[channel], mean[channel].std(correction=0).item())
    unit_map = unit_map[top:bottom, left:right]

    # 2. One latent per offset: μ with the offset added to the chosen cells of the channel.
    offsets = torch.linspace(low, high, steps)
    latents = mean.repeat(steps, 1, 1, 1)  # (steps, C, h, w)
    latents[:, channel, top:bottom, left:right] += offsets[:, None, None] * unit_map

    # 3. Decode the unchanged μ with the frames, and measure how far each frame moves from it.
    pictures = vae_ops.decode(vae, torch.cat([posterior.mean, latents]))  # (1 + steps, 3, H, W)
    reconstruction, frames = pictures[0], pictures[1:]
    changes = ((frames - reconstruction).abs() * 127.5).mean(dim=(1, 2, 3)).tolist()
    summary = {
        "channel": channel,
        "unit": unit,
        "unit_mean": unit_map.mean().item(),  # the average size of one unit in latent values
        "offsets": offsets.tolist(),
        "pixel_change": changes,
        "region": [top, left, bottom, right] if region is not None else None,
        "latent_shape": list(mean.shape),
        "model": model_name(source),
    }
    if unit == "sigma" and max(abs(low), abs(high)) > 0 and max(changes) < TINY_DIFFERENCE:
        summary["note"] = (f"The picture barely changes (under {TINY_DIFFERENCE:g} grey level): σ is tiny "
                           f"for this model. Try the unit 'spread'.")
    frame_pictures = [imaging.to_pil(p) for p in frames]
    unit_name = "σ" if unit == "sigma" else "the channel's spread"
    figure = plots.offset_change_figure(summary["offsets"], changes, unit_name)
    return TraverseResult(frame_pictures, strip(frame_pictures), imaging.to_pil(reconstruction), figure,
                          round_summary(summary))


# 2. Three ways from A to B --------------------------------------------------------------

THREE_WAYS = ("lerp", "slerp", "crossfade")


@dataclass
class ThreeWaysResult:
    frames: dict  # method -> list of pictures from A to B
    rows: list  # (strip picture, caption) per method
    norm_plot: object
    summary: dict


def three_ways_view(vae, source, file_a, file_b, steps=8, max_side=512):
    """The same walk from A to B three ways: lerp and slerp of the latents (decoded), and a plain
    crossfade of the pixels, with ‖z‖ along each (the crossfade's frames are encoded to get theirs)."""
    steps = check_number(steps, "Steps", 2, 16, integer=True)
    image_a = prepare(vae, file_a, max_side)
    image_b = prepare(vae, file_b, max_side, size=image_a.size)  # B takes A's size
    mean_a, mean_b = posteriors.get(vae, image_a).mean[0], posteriors.get(vae, image_b).mean[0]

    # 1. Two walks in latent space, decoded together.
    paths = {name: interpolate.frames(mean_a, mean_b, steps, name) for name in ("lerp", "slerp")}  # (steps, C, h, w)
    decoded = vae_ops.decode(vae, torch.cat(list(paths.values()))).split(steps)
    frames = {name: [imaging.to_pil(p) for p in pictures] for name, pictures in zip(paths, decoded)}

    # 2. A walk in pixel space: blend the pictures, then ask the encoder where each blend lands.
    ts = torch.linspace(0, 1, steps).tolist()
    frames["crossfade"] = [Image.blend(image_a, image_b, t) for t in ts]
    middle = [vae_ops.encode(vae, picture).mean[0] for picture in frames["crossfade"][1:-1]]
    crossfade_latents = torch.stack([mean_a, *middle, mean_b])

    norms = {name: path.flatten(1).norm(dim=1).tolist() for name, path in paths.items()}
    norms["crossfade"] = crossfade_latents.flatten(1).norm(dim=1).tolist()
    figure = plots.norm_path_figure(norms, typical_norm=math.sqrt(mean_a.numel()))
    captions = {"lerp": "lerp: straight line between the latents",
                "slerp": "slerp: along the sphere between the latents",
                "crossfade": "crossfade: the pixels blended, no latents at all"}
    rows = [(strip(frames[name]), captions[name]) for name in THREE_WAYS]
    summary = {"methods": list(THREE_WAYS), "steps": steps, "latent_norms": round_summary(norms),
               "model": model_name(source)}
    return ThreeWaysResult(frames, rows, figure, round_summary(summary))


# 3. Latent arithmetic -------------------------------------------------------------------

@dataclass
class ArithmeticResult:
    result: Image.Image  # decode of z(A) + strength·(z(C) - z(B))
    reconstructions: list  # decodes of μ for A, B and C
    summary: dict


def arithmetic_view(vae, source, file_a, file_b, file_c, strength=1.0, max_side=512):
    """z = z(A) + strength·(z(C) - z(B)) on the μ's: "A is to ? as B is to C"."""
    strength = check_number(strength, "Strength", -3, 3)
    image_a = prepare(vae, file_a, max_side)
    image_b = prepare(vae, file_b, max_side, size=image_a.size)  # B and C take A's size
    image_c = prepare(vae, file_c, max_side, size=image_a.size)
    images = image_a, image_b, image_c
    mean_a, mean_b, mean_c = (posteriors.get(vae, image).mean for image in images)
    result = mean_a + strength * (mean_c - mean_b)  # (1, C, h, w)
    reconstructions = [posteriors.reconstruction(vae, image) for image in images]
    summary = {
        "strength": strength,
        "result_norm": result.norm().item(),
        "a_norm": mean_a.norm().item(),
        "difference_norm": (mean_c - mean_b).norm().item(),
        "model": model_name(source),
    }
    return ArithmeticResult(imaging.to_pil(vae_ops.decode(vae, result)[0]),
                            [imaging.to_pil(p) for p in reconstructions], round_summary(summary))


# 4. Schedulers side by side -------------------------------------------------------------

MAX_SCHEDULERS = 6


@dataclass
class SchedulerComparison:
    gallery: list  # (picture, caption) per scheduler
    summary: dict


def compare_schedulers(pipe, prompt, names, steps=20, guidance_scale=5.0, seed=0, model="model"):
    """The same prompt, seed and steps through each chosen scheduler, one after another."""
    if isinstance(names, str):
        names = [names]
    if not all(isinstance(name, str) for name in names or []):
        raise InputError("Schedulers must be given by their class names, such as 'DDIMScheduler'.")
    names = list(dict.fromkeys(names or []))  # in order, each once
    if not 1 <= len(names) <= MAX_SCHEDULERS:
        raise InputError(f"Choose from 1 to {MAX_SCHEDULERS} schedulers; got {len(names)}.")
    # Check every request before running any, so a bad name does not waste the runs before it.
    requests = [generate.check_request(pipe, generate.Request(
        prompt=prompt, scheduler=name, steps=steps, guidance_scale=guidance_scale, seed=seed)) for name in names]
    gallery, results = [], []
    for request in requests:
        picture, run = generate.generate(pipe, request, model)
        gallery.append((picture, f"{request.scheduler}: {request.steps} steps, {run['seconds']:.2f} s"))
        results.append({"scheduler": request.scheduler, "seconds": run["seconds"]})
    first = requests[0]
    summary = {"prompt": first.prompt, "seed": first.seed, "steps": first.steps,
               "guidance_scale": first.guidance_scale, "results": results, "model": model}
    return SchedulerComparison(gallery, summary)


# 5. Anatomy of a pipeline ---------------------------------------------------------------

def json_safe(value):
    """Config values as plain JSON: tuples and arrays become lists, private keys ("_...") go."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items() if not str(key).startswith("_")}
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return json_safe(value.tolist())
    if isinstance(value, (list, tuple, set)):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no inf or nan
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def anatomy(pipe):
    """What a pipeline is made of: each component's class, and for networks their size and dtype;
    the scheduler's whole configuration. A JSON-ready dict."""
    components = []
    for name, component in pipe.components.items():
        if component is None:
            continue
        entry = {"name": name, "class": type(component).__name__}
        if isinstance(component, torch.nn.Module):
            parameters = list(component.parameters())
            entry["parameters"] = sum(p.numel() for p in parameters)
            entry["dtype"] = str(parameters[0].dtype).removeprefix("torch.") if parameters else None
        if name == "scheduler":
            entry["config"] = json_safe(dict(component.config))
        if name == "tokenizer":
            entry["vocab_size"] = len(component)
            entry["max_length"] = component.model_max_length
        components.append(entry)
    return {"pipeline": type(pipe).__name__, "components": components,
            "total_parameters": sum(entry.get("parameters", 0) for entry in components)}


# 6. Export: MP4 and lesson files --------------------------------------------------------

def save_mp4(pictures, path, fps=8):
    """Frames as an H.264 MP4 (imageio-ffmpeg's own ffmpeg). H.264 with yuv420p needs even sides,
    so an odd last row or column is cropped off; every frame must have the first one's size."""
    fps = check_number(fps, "Frames per second", 1, 60, integer=True)
    if not pictures:
        raise InputError("There are no frames to save; make a strip of pictures first.")
    width, height = pictures[0].size
    if any(picture.size != (width, height) for picture in pictures):
        raise InputError("Every frame of a video must have the same size.")
    even = (0, 0, width - width % 2, height - height % 2)
    with imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264", pixelformat="yuv420p",
                            macro_block_size=1) as writer:  # 1: keep our size, no resizing to multiples of 16
        for picture in pictures:
            writer.append_data(np.asarray(imaging.to_rgb(picture).crop(even)))
    return path


LESSON_FORMAT = "latent-lab-lesson"
LESSON_VERSION = 1
LESSON_VIEWS = ("encode", "sample", "interpolate", "channels", "generate", "compare", "latent_map",
                "traverse", "sigma", "three_ways", "arithmetic", "schedulers")
MAX_LESSON_BYTES = 20_000_000
MAX_PICTURES = 32
MAX_LESSON_PIXELS = 32_000_000  # all pictures together: a small PNG can declare a huge picture
MAX_SETTINGS = 64
MAX_TEXT = 2000  # characters in one setting or name
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check_view(view):
    if view not in LESSON_VIEWS:
        raise InputError(f"Unknown view {view!r} in this lesson. Known views: {', '.join(LESSON_VIEWS)}.")
    return view


def _check_setting(name, value):
    """A setting is a number, text, true/false, empty, or a flat list of those."""
    plain = (bool, int, float, str, type(None))
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, plain):
            raise InputError(f"Setting {name!r} must be a number, text or a list of them; got {type(item).__name__}.")
        if isinstance(item, float) and not math.isfinite(item):
            raise InputError(f"Setting {name!r} must be a finite number; got {item!r}.")
        if isinstance(item, str) and len(item) > MAX_TEXT:
            raise InputError(f"Setting {name!r} is longer than {MAX_TEXT} characters.")
    if len(items) > MAX_SETTINGS:
        raise InputError(f"Setting {name!r} has more than {MAX_SETTINGS} values.")
    return value


def _check_settings(settings):
    if not isinstance(settings, dict):
        raise InputError("A lesson's settings must be a table of names and values.")
    if len(settings) > MAX_SETTINGS:
        raise InputError(f"A lesson has at most {MAX_SETTINGS} settings; this one has {len(settings)}.")
    for name, value in settings.items():
        if not isinstance(name, str) or not 0 < len(name) <= 100:
            raise InputError(f"Setting names must be short text; got {name!r}.")
        _check_setting(name, list(value) if isinstance(value, tuple) else value)
    return {name: list(value) if isinstance(value, tuple) else value for name, value in settings.items()}


def _check_picture_names(names):
    if len(names) > MAX_PICTURES:
        raise InputError(f"A lesson holds at most {MAX_PICTURES} pictures; this one has {len(names)}.")
    for name in names:
        if not isinstance(name, str) or not 0 < len(name) <= 100:
            raise InputError(f"Picture names must be short text; got {name!r}.")


def save_lesson(view, settings, pictures):
    """A lesson as JSON text: the view, its settings and its pictures (PNG, base64), so that the
    file alone reproduces the demo. `pictures` is {name: PIL image}."""
    _check_view(view)
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


def _refuse_constant(name):
    raise InputError(f"A lesson may not hold {name}; numbers must be finite.")


def load_lesson(text):
    """JSON text (or UTF-8 bytes) of a lesson -> (view, settings, {name: RGB picture}). Everything
    is checked: the file is untrusted, so its pictures go through imaging.load_image."""
    if len(text) > MAX_LESSON_BYTES:
        raise InputError(f"This lesson file is larger than {MAX_LESSON_BYTES // 1_000_000} MB, too large to open.")
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("This is not a lesson file: it is not UTF-8 text.") from None
    try:
        lesson = json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, RecursionError) as error:
        raise InputError(f"This is not a lesson file: it is not valid JSON ({error}).") from None
    if not isinstance(lesson, dict) or lesson.get("format") != LESSON_FORMAT:
        raise InputError(f"This is not a lesson file: it lacks \"format\": \"{LESSON_FORMAT}\".")
    if lesson.get("version") != LESSON_VERSION:
        raise InputError(f"This lesson has version {lesson.get('version')!r}; this app reads version "
                         f"{LESSON_VERSION}.")
    view = _check_view(lesson.get("view"))
    settings = _check_settings(lesson.get("settings"))
    encoded = lesson.get("pictures")
    if not isinstance(encoded, dict):
        raise InputError("A lesson's pictures must be a table of names and PNG pictures.")
    _check_picture_names(list(encoded))
    pictures, total_pixels = {}, 0
    for name, data in encoded.items():
        try:
            png = base64.b64decode(data, validate=True)
        except (TypeError, ValueError, binascii.Error):
            raise imaging.ImageError(f"Picture {name!r} in this lesson is not valid base64 text.") from None
        if not png.startswith(PNG_SIGNATURE):
            raise imaging.ImageError(f"Picture {name!r} in this lesson is not a PNG picture.")
        if png[12:16] == b"IHDR":  # the PNG header chunk: width and height, before any decoding
            width, height = struct.unpack(">II", png[16:24].ljust(8, b"\0"))
            total_pixels += width * height
            if total_pixels > MAX_LESSON_PIXELS:
                raise imaging.ImageError(f"The pictures in this lesson have more than "
                                         f"{MAX_LESSON_PIXELS // 1_000_000} megapixels in all, too many to open.")
        pictures[name] = imaging.load_image(io.BytesIO(png))
    return view, settings, pictures
