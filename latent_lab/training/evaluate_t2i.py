"""Score the embedded text-to-image model on prompts it was never trained on.

    python -m latent_lab.training.evaluate_t2i [--prompts 40] [--scheduler DPMSolverMultistepScheduler]

Each prompt describes a scene; the generated picture is scored automatically: the colour of
the border (background), the colour of the pixels that differ from it (the shapes), and where
those pixels lie (position). Prints the accuracy per attribute, for held-out (colour, shape)
pairs and for pairs seen in training.
"""

import argparse

import numpy as np

from latent_lab import generate
from latent_lab.config import EMBEDDED_PIPELINE
from latent_lab.models import load_pipeline
from latent_lab.training.scenes import COLOURS, POSITIONS, SHAPES, Scene
from latent_lab.training.train_t2i import HELD_OUT_PAIRS

PALETTE = np.array(list(COLOURS.values()), dtype=np.float32)
NAMES = list(COLOURS)


def nearest_colour(rgb):
    return NAMES[int(np.argmin(((PALETTE - np.asarray(rgb, np.float32)) ** 2).sum(axis=1)))]


def score(picture, scene):
    """{attribute: right or wrong} for one generated picture of `scene`."""
    pixels = np.asarray(picture, dtype=np.float32)
    border = np.concatenate([pixels[:4].reshape(-1, 3), pixels[-4:].reshape(-1, 3),
                             pixels[:, :4].reshape(-1, 3), pixels[:, -4:].reshape(-1, 3)])
    background = np.median(border, axis=0)
    distance = np.sqrt(((pixels - background) ** 2).sum(axis=2))
    mask = distance > 60  # pixels clearly unlike the background: the shapes
    result = {"background": nearest_colour(background) == scene.background}
    if mask.sum() < 20:  # no shape drawn
        return result | {"object colour": False, "position": False}
    result["object colour"] = nearest_colour(np.median(pixels[mask], axis=0)) == scene.colour
    ys, xs = np.nonzero(mask)
    centre = np.array([xs.mean(), ys.mean()]) / np.array(mask.shape[::-1])
    closest = min(POSITIONS, key=lambda name: np.linalg.norm(centre - np.array(POSITIONS[name])))
    result["position"] = closest == scene.position
    return result


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
        scenes.append(Scene(shape, colour, background, count=1, size="big",
                            position=list(POSITIONS)[rng.integers(len(POSITIONS))]))
    return scenes


def evaluate(pipe, scenes, scheduler, steps, guidance_scale):
    results = []
    for index, scene in enumerate(scenes):
        request = generate.Request(scene.caption(), "", scheduler, steps, guidance_scale, seed=index)
        picture, _ = generate.generate(pipe, request)
        results.append(score(picture, scene))
    return {key: float(np.mean([r[key] for r in results])) for key in results[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", default=str(EMBEDDED_PIPELINE))
    parser.add_argument("--prompts", type=int, default=40)
    parser.add_argument("--scheduler", default="DPMSolverMultistepScheduler")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--guidance-scale", type=float, default=5.0)
    args = parser.parse_args()
    pipe = load_pipeline(args.pipeline)
    for name, held_out in (("held out", True), ("seen", False)):
        accuracy = evaluate(pipe, prompts(args.prompts, held_out), args.scheduler, args.steps, args.guidance_scale)
        print(f"{name:9s} " + "   ".join(f"{key} {value:.0%}" for key, value in accuracy.items()), flush=True)


if __name__ == "__main__":
    main()
