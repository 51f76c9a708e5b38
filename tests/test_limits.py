"""One source for every limit: each slider's range is the range its view's check accepts. Every
slider of the public endpoints is set to each of its ends through the API, the other sliders at
their lowest, and gets a whole answer; one step past either end gets a plain sentence."""

import gradio as gr
from gradio_client import Client, handle_file
import pytest

from tests.conftest import photo_like
from ui import widgets

# Endpoints whose slider ends are tested elsewhere, where they would cost a minute here.
SLOW_ENDS = {"digits_train": "seconds of training"}


def public_endpoints_with_sliders(demo):
    for block_fn in demo.fns.values():
        if (block_fn.api_name and block_fn.api_visibility == "public" and block_fn.api_name not in SLOW_ENDS
                and any(isinstance(block, gr.Slider) for block in block_fn.inputs)):
            yield block_fn


def arguments(block_fn, picture, ends):
    """The API arguments of `block_fn`: each slider at the end `ends` names (else its minimum),
    every other input at its default (a picture where one is needed)."""
    values = []
    for block in block_fn.inputs:
        if isinstance(block, gr.State):
            continue  # held by the session, not sent
        if isinstance(block, gr.Slider):
            values.append(ends.get(id(block), block.minimum))
        elif isinstance(block, widgets.ImageFile):
            values.append(handle_file(picture))
        elif isinstance(block, gr.Dropdown) and block.multiselect:
            values.append([block.value[0]] if block.value else ["DDIMScheduler"])
        else:
            values.append(block.value)
    return values


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    path = tmp_path_factory.mktemp("limits") / "small.png"
    photo_like(64, 48, seed=5).save(path)
    return str(path)


@pytest.mark.slow
def test_every_slider_end_gets_an_answer_and_one_step_past_it_a_sentence(served_app, app_url, picture):
    client = Client(app_url, verbose=False)
    checked, seen = [], set()
    for block_fn in public_endpoints_with_sliders(served_app):
        # A slider several endpoints share (Generate's steps) is pushed to its ends once.
        sliders = [block for block in block_fn.inputs if isinstance(block, gr.Slider) and id(block) not in seen]
        seen.update(map(id, sliders))
        for slider in sliders:
            for end, past in ((slider.minimum, slider.minimum - slider.step), (slider.maximum, slider.maximum + slider.step)):
                answer = client.predict(*arguments(block_fn, picture, {id(slider): end}), api_name=f"/{block_fn.api_name}")
                last = answer[-1] if isinstance(answer, tuple) else answer
                whole = "status" not in last if isinstance(last, dict) else bool(last)  # a summary, or a file
                assert whole, (block_fn.api_name, slider.label, end)
                with pytest.raises(Exception) as refused:
                    client.predict(*arguments(block_fn, picture, {id(slider): past}), api_name=f"/{block_fn.api_name}")
                message = str(refused.value)
                assert "Traceback" not in message and len(message) < 400, (block_fn.api_name, slider.label, message)
            checked.append(f"{block_fn.api_name}: {slider.label}")
    assert len(checked) >= 19, checked  # every photo, diffusion and digits view with a slider (19 distinct)
