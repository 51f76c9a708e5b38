"""The training data and the automatic scorer of text-to-image results."""

import numpy as np

from latent_lab.training.evaluate_t2i import nearest_colour, prompts, score
from latent_lab.training.scenes import COLOURS, POSITIONS, SHAPES, Scene, random_scene
from latent_lab.training.train_t2i import HELD_OUT_PAIRS, training_scenes


def test_caption_grammar_covers_the_required_words():
    assert len(COLOURS) >= 8 and len(SHAPES) >= 5 and len(POSITIONS) == 5
    assert Scene("circle", "red", "blue").caption() == "a big red circle in the centre on a blue background"
    assert Scene("star", "orange", "orange", count=2, size="small", position="on the left").caption() == \
        "two small orange stars on the left on an orange background"


def test_training_scenes_leave_out_the_held_out_pairs():
    scenes = training_scenes(count=3000)
    assert not {(s.colour, s.shape) for s in scenes} & HELD_OUT_PAIRS
    assert all(s.colour != s.background for s in scenes)
    assert {s.count for s in scenes} == {1, 2, 3}


def test_the_scorer_recognises_rendered_scenes():
    rng = np.random.default_rng(0)
    for _ in range(30):
        scene = random_scene(rng)
        scene = Scene(scene.shape, scene.colour, scene.background, 1, "big", scene.position)
        assert score(scene.render(128), scene) == {"background": True, "object colour": True, "position": True}


def test_the_scorer_notices_a_wrong_picture():
    drawn = Scene("circle", "red", "blue", position="on the left")
    asked = Scene("circle", "green", "yellow", position="on the right")
    assert score(drawn.render(128), asked) == {"background": False, "object colour": False, "position": False}


def test_nearest_colour_and_held_out_prompts():
    assert nearest_colour((250, 20, 20)) == "red"
    held_out = prompts(20, held_out=True)
    assert all((s.colour, s.shape) in HELD_OUT_PAIRS for s in held_out)
    assert not any((s.colour, s.shape) in HELD_OUT_PAIRS for s in prompts(20, held_out=False))
