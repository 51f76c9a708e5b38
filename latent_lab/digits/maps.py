"""The 2-number maps: a plane of a 2-number latent drawn as a grid of decodes, with the test
digits on it as dots coloured by label, the prior's 1σ/2σ/3σ circles, and marks for a digit.

A Plane is a square window onto (z1, z2); it converts latent points to the map picture's pixels
and back (for clicks). The autoencoder and the VAE are shown side by side over the prior's ±3,
or each over the range of its own codes.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from PIL import Image, ImageColor, ImageDraw

from latent_lab.checks import InputError, check_number, round_summary, shorten
from latent_lab.digits import classifier, latents, pictures
from latent_lab.digits.models import check_name, load, names

PRIOR_EXTENT = 3.0  # the prior view: z1, z2 in [-3, 3]
CELLS = 20  # decodes per side of a map
CELL = 28  # pixels per decode: the models' own resolution
MIN_CELLS, MAX_CELLS = 5, 40
PRIOR_SAMPLES, PRIOR_SEED = 512, 0  # the label mix of the prior's samples on each map
EXTENTS = ("prior", "codes")
# One colour per label (matplotlib's tab10), for the test digits' dots.
LABEL_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
PRIOR_COLOUR, MARK_COLOUR, SIGMA_COLOUR = "#ffd166", "#ff3b3b", "#00e5ff"


@dataclass(frozen=True)
class Plane:
    """The square [z1 - half, z1 + half] x [z2 - half, z2 + half] of a 2-number latent, drawn as
    cells x cells decodes of CELL pixels each; z2 grows upwards, as on paper."""
    centre: tuple = (0.0, 0.0)
    half: float = PRIOR_EXTENT
    cells: int = CELLS

    @property
    def side(self):
        return self.cells * CELL  # pixels

    @property
    def span(self):
        """[z1 min, z1 max, z2 min, z2 max]: the window in latent units (also matplotlib's extent)."""
        (z1, z2), half = self.centre, self.half
        return [z1 - half, z1 + half, z2 - half, z2 + half]

    def points(self):
        """The cells' centres, (cells², 2), row by row from the top left."""
        offsets = ((np.arange(self.cells) + 0.5) / self.cells * 2 - 1) * self.half
        z1, z2 = np.meshgrid(self.centre[0] + offsets, self.centre[1] - offsets)
        return np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)

    def contains(self, z1, z2):
        z1_min, z1_max, z2_min, z2_max = self.span
        return z1_min <= z1 <= z1_max and z2_min <= z2 <= z2_max

    def to_pixel(self, z1, z2):
        """Latent point -> (x, y) in the map picture's pixels."""
        z1_min, _, _, z2_max = self.span
        scale = self.side / (2 * self.half)
        return (z1 - z1_min) * scale, (z2_max - z2) * scale

    def to_latent(self, x, y):
        """(x, y) pixels of the map picture -> the latent point (z1, z2) under them."""
        z1_min, _, _, z2_max = self.span
        scale = self.side / (2 * self.half)
        return z1_min + x / scale, z2_max - y / scale


def check_map_model(name):
    """`name` if it is a 2-number model (the β family's too), else an InputError naming those."""
    return check_name(name, names(latent_dim=2, beta=True))


def plane_for(name, extent="prior", cells=CELLS, codes=None):
    """The prior's ±3 ("prior"), or a square around all of the model's test codes ("codes"):
    `codes` when given (a model trained live, whose codes are not cached), else the shipped
    model's."""
    if extent not in EXTENTS:
        raise InputError(f"The map's extent must be 'prior' (the prior's ±3) or 'codes' (the model's own range), "
                         f"not {shorten(extent)}.")
    cells = check_number(cells, "The map's number of cells a side", MIN_CELLS, MAX_CELLS, integer=True)
    if extent == "prior":
        return Plane(cells=cells)
    return codes_plane(latents.test_codes(load(name))[0] if codes is None else codes, cells)


def model_map(model, plane, name, codes):
    """(map picture, summary) of a 2-number `model` over `plane`, with the test digits' `codes`
    (N, 2) as dots and its numbers: the codes' spread, what the prior's samples decode to, the
    clear cells."""
    picture, inks = draw_map(model, plane, codes, latents.test_digits()[1])
    summary = {"model": name, "kind": model.config.kind, "span": plane.span, "code_std": codes.std(dim=0).tolist(),
               "prior_samples": PRIOR_SAMPLES,
               "prior_label_mix": classifier.label_mix(latents.decode(model, prior_z())),
               "clear_share": classifier.digit_likeness(inks)}
    return picture, summary


def codes_plane(codes, cells=CELLS):
    """The square around all of `codes` (N, 2), with a 10% margin."""
    codes = np.asarray(codes)
    low, high = codes.min(axis=0), codes.max(axis=0)
    centre = tuple(float(v) for v in (low + high) / 2)
    return Plane(centre, max(float((high - low).max()) / 2 * 1.1, 1e-3), cells)


def prior_z(count=PRIOR_SAMPLES, dim=2, seed=PRIOR_SEED):
    """z ~ N(0, I), (count, dim), the same for the same seed."""
    return torch.randn(count, dim, generator=torch.Generator().manual_seed(seed))


def _ellipse(draw, plane, centre, radii, colour, width):
    (x, y), scale = plane.to_pixel(*centre), plane.side / (2 * plane.half)
    rx, ry = max(1.0, radii[0] * scale), max(1.0, radii[1] * scale)
    draw.ellipse([x - rx, y - ry, x + rx, y + ry], outline=colour, width=width)


def draw_map(model, plane, codes, labels):
    """The map of a 2-number `model` over `plane`: a grid of decodes with the prior's 1σ/2σ/3σ
    circles and `codes` (N, 2) as dots coloured by `labels`. Returns (picture, inks (cells², 28, 28))."""
    cells = plane.cells
    inks = latents.decode(model, plane.points())  # (cells², 28, 28)
    picture = pictures.grid_picture([inks[row * cells:(row + 1) * cells] for row in range(cells)], scale=1)
    draw = ImageDraw.Draw(picture)
    for radius in (1, 2, 3):
        _ellipse(draw, plane, (0, 0), (radius, radius), PRIOR_COLOUR, 1)
    for (z1, z2), label in zip(np.asarray(codes).tolist(), labels):
        x, y = plane.to_pixel(z1, z2)
        draw.ellipse([x - 2.5, y - 2.5, x + 2.5, y + 2.5], fill=LABEL_COLOURS[label], outline="white")
    return picture, inks


@cache
def base_map(name, extent="prior", cells=CELLS):
    """(plane, map picture, summary) of a 2-number model; drawn once per view (callers copy it)."""
    plane = plane_for(check_map_model(name), extent, cells)
    return plane, *model_map(load(name), plane, name, latents.test_codes(load(name))[0])


@dataclass
class MapView:
    """The 2-number models' maps, side by side: per model name, its plane (for clicks), its map
    picture (a copy: safe to draw on) and, in `summary`, its numbers (JSON-ready)."""
    planes: dict
    pictures: dict
    summary: dict


def map_view(extent="prior", cells=CELLS):
    """The autoencoder's and the VAE's 2-number maps, over the prior's ±3 or each over its own codes."""
    planes, drawn, summary = {}, {}, {"extent": extent}
    for name in names(latent_dim=2):
        planes[name], picture, summary[name] = base_map(name, extent, cells)
        drawn[name] = picture.copy()
    summary["cells"] = planes[name].cells
    return MapView(planes, drawn, round_summary(summary))


def palette_picture(picture):
    """A map picture with the map's colours only (18 greys, the label colours, the prior's rings),
    for maps shipped as PNG: a third of the size, and no dot changes colour."""
    greys = [(v, v, v) for v in range(0, 256, 15)]
    colours = greys + [ImageColor.getrgb(c) for c in LABEL_COLOURS + (PRIOR_COLOUR,)]
    palette = Image.new("P", (1, 1))
    palette.putpalette([value for colour in colours for value in colour] + [0] * 3 * (256 - len(colours)))
    return picture.convert("RGB").quantize(palette=palette, dither=Image.Dither.NONE)


def mark(picture, plane, mu, sigma=None):
    """Draw a digit's μ on a map picture (a cross), and its σ as 1σ and 2σ ellipses, in place."""
    draw = ImageDraw.Draw(picture)
    x, y = plane.to_pixel(*mu)
    for width, colour in ((9, "black"), (4, MARK_COLOUR)):  # big enough to see on a shrunk map
        draw.line([x - 16, y, x + 16, y], fill=colour, width=width)
        draw.line([x, y - 16, x, y + 16], fill=colour, width=width)
    if sigma is not None:
        for k in (1, 2):
            _ellipse(draw, plane, mu, (k * sigma[0], k * sigma[1]), SIGMA_COLOUR, 3)
    return picture


def mark_digit(model, picture, plane, ink):
    """Mark a framed digit `ink` (28, 28) on `model`'s map `picture`: μ, and the VAE's σ as 1σ and
    2σ ellipses. Returns where it landed: {mu, sigma (None for an autoencoder), in_view}."""
    mu, sigma = latents.encode(model, ink[None])
    mu, sigma = mu[0].tolist(), None if sigma is None else sigma[0].tolist()
    mark(picture, plane, mu, sigma)
    return {"mu": mu, "sigma": sigma, "in_view": plane.contains(*mu)}


def decode_point(name, z1, z2, model=None):
    """The decode of one point of a 2-number model's plane (`model`, else the shipped one named):
    (picture, summary)."""
    model = load(check_map_model(name)) if model is None else model
    z = [check_number(z1, "z1", -latents.MAX_VALUE, latents.MAX_VALUE),
         check_number(z2, "z2", -latents.MAX_VALUE, latents.MAX_VALUE)]
    ink = latents.decode(model, [z])
    labels, confidences = classifier.classify(None, ink)
    return pictures.to_picture(ink[0], scale=8), {"model": name, "z": z, "label": classifier.label_name(labels[0]),
                                                  "confidence": float(confidences[0])}


def click_to_latent(name, x, y, extent="prior", cells=CELLS):
    """The latent point (z1, z2) under pixel (x, y) of `name`'s map picture."""
    plane = base_map(name, extent, cells)[0]
    x = check_number(x, "x", 0, plane.side)
    y = check_number(y, "y", 0, plane.side)
    return plane.to_latent(x, y)

