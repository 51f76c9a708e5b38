"""Score the embedded text-to-image model on prompts it was never trained on.

    python -m latent_lab.training.evaluate_t2i [--prompts 40] [--scheduler DPMSolverMultistepScheduler]

Each prompt describes a scene; the generated picture is scored automatically: the colour of
the border (background), the colour of the pixels that differ from it (the shapes), where those
pixels lie (position), how many separate shapes they make (count) and, for one shape, whether it
is big or small (size). Prints the accuracy per attribute, for held-out (colour, shape) pairs and
for pairs seen in training; then, at fixed seeds, where the shapes land for each position word.
"""

import argparse

import numpy as np
from scipy import ndimage

from latent_lab.diffusion import generate
from latent_lab.config import EMBEDDED_PIPELINE
from latent_lab.models import load_pipeline
from latent_lab.training.scenes import COLOURS, COUNT_WORDS, POSITIONS, SHAPES, SIZES, Scene
from latent_lab.training.train_t2i import HELD_OUT_PAIRS

PALETTE = np.array(list(COLOURS.values()), dtype=np.float32)
NAMES = list(COLOURS)
SPECK = 20  # pixels: smaller groups of shape pixels are not counted as shapes
# A lone shape's extent (the longer side of its box, as a share of the picture's side) above this is
# "big": drawn, small shapes span 0.22-0.32 of the side (a square to a circle), big ones 0.42-0.60.
BIG_EXTENT = 0.37


def nearest_colour(rgb):
    return NAMES[int(np.argmin(((PALETTE - np.asarray(rgb, np.float32)) ** 2).sum(axis=1)))]


def score(picture, scene):
    """{attribute: right or wrong} for one generated picture of `scene` (size only for one shape:
    with more, the drawn size depends on the count too)."""
    pixels = np.asarray(picture, dtype=np.float32)
    background = border_colour(pixels)
    mask = shape_pixels(pixels, background)
    result = {"background": nearest_colour(background) == scene.background}
    labels, _ = ndimage.label(ndimage.binary_erosion(mask, iterations=2))  # shapes touching at a tip count apart
    areas = np.bincount(labels.ravel())[1:]
    if not (areas >= SPECK).any():  # no shape drawn
        return result | {key: False for key in ("object colour", "position", "count")} | (
            {"size": False} if scene.count == 1 else {})
    result["object colour"] = nearest_colour(np.median(pixels[mask], axis=0)) == scene.colour
    closest = min(POSITIONS, key=lambda name: np.linalg.norm(shape_centre(mask) - np.array(POSITIONS[name])))
    result["position"] = closest == scene.position
    result["count"] = int((areas >= SPECK).sum()) == scene.count
    if scene.count == 1:
        ys, xs = np.nonzero(labels == 1 + int(np.argmax(areas)))
        extent = max(np.ptp(xs), np.ptp(ys)) / max(mask.shape)
        result["size"] = ("big" if extent > BIG_EXTENT else "small") == scene.size
    return result


def border_colour(pixels):
    """The median colour of a picture's 4-pixel border: its background. `pixels` (H, W, 3)."""
    return np.median(np.concatenate([pixels[:4].reshape(-1, 3), pixels[-4:].reshape(-1, 3),
                                     pixels[:, :4].reshape(-1, 3), pixels[:, -4:].reshape(-1, 3)]), axis=0)


def shape_pixels(pixels, background):
    """Pixels clearly unlike the background: the shapes; (H, W) bool."""
    return np.sqrt(((pixels - background) ** 2).sum(axis=2)) > 60


def shape_centre(mask):
    """The centre of the shape pixels as (x, y), each 0-1."""
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()]) / np.array(mask.shape[::-1])


def prompts(count, held_out, seed=0):
    """`count` scenes whose (colour, shape) pair is held out of training, or seen in it."""
    rng = np.random.default_rng([seed, held_out])
    pairs = sorted(HELD_OUT_PAIRS) if held_out else [
        (c, s) for c in COLOURS for s in SHAPES if (c, s) not in HELD_OUT_PAIRS]
    scenes = []
    for _ in range(count):
        colour, shape = pairs[rng.integers(len(pairs))]
        background = colour
        while background == colour:
            background = NAMES[rng.integers(len(NAMES))]
        scenes.append(Scene(shape, colour, background, count=int(rng.choice(list(COUNT_WORDS))),
                            size=list(SIZES)[rng.integers(len(SIZES))],
                            position=list(POSITIONS)[rng.integers(len(POSITIONS))]))
    return scenes


def evaluate(pipe, scenes, scheduler, steps, guidance_scale, short=False):
    """{attribute: share right}; with `short`, the prompts leave out the size and position words
    ("two red stars on a blue background") and only what they say is scored."""
    results = []
    for index, scene in enumerate(scenes):
        caption = scene.caption(np.random.default_rng(index), 0.0, 0.0) if short else scene.caption()
        request = generate.Request(caption, "", scheduler, steps, guidance_scale, seed=index)
        picture, _ = generate.generate(pipe, request)
        result = score(picture, scene)
        results.append({k: v for k, v in result.items() if k not in ("position", "size")} if short else result)
    keys = dict.fromkeys(key for r in results for key in r)
    return {key: float(np.mean([r[key] for r in results if key in r])) for key in keys}


def where_words_put_shapes(pipe, scheduler, steps, guidance_scale, seeds=6):
    """{position word: mean (x, y) of the shapes} over the same seeds and scenes, one word changed:
    if the words are learnt, "left" and "right" land apart; if the starting noise decides, together."""
    centres = {}
    for position in POSITIONS:
        found = []
        for seed in range(seeds):
            for colour, background in (("red", "white"), ("blue", "yellow")):
                scene = Scene("circle", colour, background, 1, "big", position)
                request = generate.Request(scene.caption(), "", scheduler, steps, guidance_scale, seed=seed)
                pixels = np.asarray(generate.generate(pipe, request)[0], dtype=np.float32)
                mask = shape_pixels(pixels, border_colour(pixels))
                if mask.sum() >= SPECK:
                    found.append(shape_centre(mask))
        centres[position] = np.mean(found, axis=0) if found else np.full(2, np.nan)
    return centres


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", default=str(EMBEDDED_PIPELINE))
    parser.add_argument("--prompts", type=int, default=40)
    parser.add_argument("--scheduler", default="DPMSolverMultistepScheduler")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--guidance-scale", type=float, default=5.0)
    args = parser.parse_args()
    pipe = load_pipeline(args.pipeline)
    for name, held_out, short in (("held out", True, False), ("seen", False, False),
                                  ("held out, short prompts", True, True)):
        scenes = prompts(args.prompts, held_out)
        accuracy = evaluate(pipe, scenes, args.scheduler, args.steps, args.guidance_scale, short)
        print(f"{name}: " + "   ".join(f"{key} {value:.0%}" for key, value in accuracy.items()), flush=True)
    centres = where_words_put_shapes(pipe, args.scheduler, args.steps, args.guidance_scale)
    print("same seeds, one word changed: mean centre (x, y) of the shapes; drawn at "
          + ", ".join(f"{word} {xy}" for word, xy in POSITIONS.items()))
    for word, (x, y) in centres.items():
        print(f"  {word:14s} ({x:.2f}, {y:.2f})")


if __name__ == "__main__":
    main()
