"""ui/events.py: a streaming view streams to the page and answers API callers once."""

import asyncio
import threading

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
    assert asyncio.run(final(3)) == {"steps": 3} and calls == [0, 1, 2]  # the whole stream ran once
    assert final.model_work  # still in the one concurrency group


def test_a_cancelled_api_call_sees_its_step_through_and_runs_no_other():
    began, go_on, steps, closed = threading.Event(), threading.Event(), [], []

    def slow(count):
        try:
            for step in range(count):
                steps.append(step)
                began.set()
                go_on.wait()
                yield step
        finally:
            closed.append(True)

    async def cancel_in_first_step():
        task = asyncio.ensure_future(events.final_answer(slow)(5))
        await asyncio.to_thread(began.wait)
        task.cancel()
        await asyncio.sleep(0.05)
        assert not task.done()  # the step under way is waited for
        go_on.set()
        await asyncio.gather(task, return_exceptions=True)
        return task

    assert asyncio.run(cancel_in_first_step()).cancelled()
    assert steps == [0] and closed == [True]


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
    assert not public.types_generator  # one message, the final one: a client downloads its files once
    assert asyncio.run(public.fn(2)) == {"steps": 2}
