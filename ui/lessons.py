"""Lessons: save the open tab's pictures and settings as one file, and open it again in class.
A lesson file is untrusted when it comes back: every setting is checked against the widget it
fills (range, step, choices, length) before anything is shown."""

from functools import partial
import math

import gradio as gr

from latent_lab import imaging, lessons
from latent_lab.checks import InputError, check_number, shorten
from ui import common, errors, files, widgets

HELP = """
A **lesson file** keeps one tab's demo: its pictures, seeds and settings, and the model. Save it before class,
open it in front of the students, press the tab's button, and the same demo plays again.
"""


class LessonFile(gr.File):
    """A file input that hands the handler the upload's bytes, read only from Gradio's upload folder."""

    is_template = True

    def preprocess(self, payload):
        if payload is None:
            return None
        try:
            return imaging.read_upload(payload.path, [self.GRADIO_CACHE], max_bytes=lessons.MAX_LESSON_BYTES)
        except imaging.ImageError:
            raise gr.Error("This file could not be read. Open a lesson file saved by this app.",
                           print_exception=False) from None


def _choices(component):
    return [choice[1] if isinstance(choice, (tuple, list)) else choice for choice in component.choices or []]


def check_value(component, name, value):
    """`value` for `component`, or an InputError that says what the widget accepts."""
    label = f"The lesson's {shorten(name)}"
    if isinstance(component, gr.Slider):
        integer = float(component.step).is_integer() and float(component.minimum).is_integer()
        return check_number(value, label, component.minimum, component.maximum, integer=integer)
    if isinstance(component, gr.Number):
        low = -math.inf if component.minimum is None else component.minimum
        high = math.inf if component.maximum is None else component.maximum
        return check_number(value, label, low, high, integer=component.precision == 0)
    if isinstance(component, (gr.Radio, gr.Dropdown)) and _choices(component):
        if value not in _choices(component):
            raise InputError(f"{label} must be one of {', '.join(map(str, _choices(component)))}; got {shorten(value)}.")
        return value
    if not isinstance(value, str) or len(value) > lessons.MAX_TEXT:
        raise InputError(f"{label} must be text of at most {lessons.MAX_TEXT} characters.")
    return value


def check_settings(fields, view, settings):
    """Every setting of a lesson for `view`, checked against the widget it fills."""
    known = {name for name, component in fields[view].items() if not isinstance(component, widgets.ImageFile)}
    unknown = sorted(set(settings) - known - {"model"})
    if unknown:
        raise InputError(f"This lesson has settings the {view} tab does not have: {shorten(unknown, 80)}. "
                         f"It has: {', '.join(sorted(known))}.")
    return {name: value if name == "model" else check_value(fields[view][name], name, value)
            for name, value in settings.items()}


# A lesson keeps its pictures at least this large (each tab fits them to its working size).
LESSON_SIDE = 1024


@errors.friendly
def on_save_lesson(fields, view, model, *values):
    """The open tab's inputs (pictures included) as one lesson file. `values` are every tab's
    inputs, in the order of `fields` ({view: {name: component}})."""
    inputs = [(v, name, component) for v, named in fields.items() for name, component in named.items()]
    chosen = [(name, component, value) for (v, name, component), value in zip(inputs, values) if v == view]
    pictures = {name: imaging.load_image(value, LESSON_SIDE) for name, component, value in chosen
                if isinstance(component, widgets.ImageFile) and value}
    lesson_settings = {name: value for name, component, value in chosen if not isinstance(component, widgets.ImageFile)}
    if view not in ("generate", "digits"):
        lesson_settings["model"] = model
    text = lessons.save_lesson(view, lesson_settings, pictures, tuple(fields))
    return files.write_text(text, f"lesson-{view}"), f"Saved the **{view}** tab's settings and {len(pictures)} picture(s)."


@errors.friendly
def on_open_lesson(fields, titles, data):
    """Fill the lesson's tab with its settings and pictures, and open that tab."""
    layout = [(view, name) for view, named in fields.items() for name in named]
    if data is None:
        return [gr.update()] * (len(layout) + 4)
    view, settings, pictures = lessons.load_lesson(data, views=tuple(fields),
                                                   models=tuple(common.settings.vae_choices()))
    settings = check_settings(fields, view, settings)
    updates = []
    for v, name in layout:
        if v != view:
            updates.append(gr.update())
        elif isinstance(fields[v][name], widgets.ImageFile):
            updates.append(files.write_picture(pictures[name]) if name in pictures else None)
        else:
            updates.append(settings.get(name, gr.update()))
    model = settings.get("model", gr.update())
    message = f"Opened a lesson for the **{titles[view]}** tab: press its button to run it."
    return [gr.Tabs(selected=view), view, model, *updates, message]


def build(page, fields, titles):
    """The accordion under the tabs: save the open tab, open a saved lesson."""
    components = [component for named in fields.values() for component in named.values()]
    with gr.Accordion("Lessons: save the open tab's demo, or open a saved one", open=False):
        gr.Markdown(HELP)
        with gr.Row():
            save_button = gr.Button("Save the open tab as a lesson")
            lesson_file = gr.File(label="Lesson file", elem_id="lesson-file")
            lesson_upload = LessonFile(label="Open a lesson", file_types=[".json"], type="filepath",
                                       elem_id="lesson-upload")
        status = gr.Markdown(elem_id="lesson-status")
    save_button.click(partial(on_save_lesson, fields), [page.open_view, page.model_selector, *components],
                      [lesson_file, status], api_name="save_lesson")
    lesson_upload.upload(partial(on_open_lesson, fields, titles), lesson_upload,
                         [page.tabs, page.open_view, page.model_selector, *components, status], api_name="open_lesson")
