"""What the Digits sub-views share: the two 2-number models, the sketchpad, the digit a view works
on (drawn, uploaded or one of the shipped test digits) and the menus of test digits."""

import gradio as gr

from latent_lab import imaging
from latent_lab.checks import InputError, check_number
from latent_lab.digits import models
from latent_lab.digits.framing import READ_SIDE, frame_digit
from ui import widgets

AE_2D, VAE_2D = models.names(latent_dim=2)


def ink(drawing=None, upload=None, test_index=None):
    """A framed digit (28, 28) in [0, 1]: the drawing, else the upload, else a test digit."""
    for picture in (drawing, upload):
        if picture:
            framed = frame_digit(imaging.load_image(picture, READ_SIDE))
            if framed.any():
                return framed
    if test_index is None:
        raise InputError("Draw a digit first (dark strokes on white), or upload a picture of one.")
    images, _ = models.test_digits()
    index = check_number(test_index, "Test digit", 0, len(images) - 1, integer=True)
    return images[index] / 255.0


def test_digit_choices():
    """(name, index) of every shipped test digit, for the walk's and traversal's menus."""
    _, labels = models.test_digits()
    return [(f"#{index}: a {label}", index) for index, label in enumerate(labels.tolist())]


def first_of(label):
    """The index of the first shipped test digit with this label."""
    return int(models.test_digits()[1].tolist().index(label))


def sketchpad(label, elem_id):
    return widgets.Sketchpad(label=label, type="filepath", height=340, canvas_size=(280, 280), fixed_canvas=True,
                     layers=False, transforms=(), elem_id=elem_id,
                     brush=gr.Brush(colors=["#000000"], default_size=18, color_mode="fixed"))
