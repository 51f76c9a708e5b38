"""ui/events.py: a streaming view streams to the page and answers API callers once."""

import gradio as gr

from ui import errors, events


def test_the_api_gets_only_the_final_answer_of_a_stream():
    calls = []

    @errors.friendly
    def counting(steps):
        for step in range(int(steps)):
            calls.append(step)
            yield {"status": f"{step + 1} of {steps}"}
        yield {"steps": steps}

    final = events.final_answer(counting)
    answers = list(final(3))
    assert answers[-1] == {"steps": 3} and calls == [0, 1, 2]  # the whole stream ran once
    assert all(isinstance(answer, type(gr.skip())) for answer in answers[:-1])  # nothing sent before it
    assert final.model_work  # still in the one concurrency group


def test_the_page_streams_privately_and_the_api_name_answers_once():
    @errors.friendly
    def counting(steps):
        yield {"status": "half"}
        yield {"steps": steps}

    with gr.Blocks() as demo:
        steps, summary, button = gr.Number(2), gr.JSON(), gr.Button("Go")
        events.streamed(button, counting, steps, summary, api_name="count")
    by_name = {fn.api_name: fn for fn in demo.fns.values()}
    public = by_name["count"]
    assert public.api_visibility == "public"
    page_events = [fn for fn in demo.fns.values() if fn.api_visibility == "private"]
    assert len(page_events) == 1 and page_events[0].types_generator and page_events[0].inputs == public.inputs
    assert list(public.fn(2))[-1] == {"steps": 2}
