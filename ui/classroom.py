"""Class room: the teacher opens a room, every student sends a digit they drew, and the teacher's
screen places all of them on the 2-number maps, live. The rooms live in this server process's
memory (latent_lab.digits.classroom); a student is known only by their browser session."""

import gradio as gr

from latent_lab.checks import MAX_SEED, InputError
from latent_lab.digits import classroom
from latent_lab.streams import on_model_thread
from ui import errors, files, widgets
from ui.digits.shared import AE_2D, VAE_2D, ink, sketchpad

TITLE, VIEW, ELEM_ID = "Class room", "classroom", "tab-classroom"
STUDENT_VIEW, TEACHER_VIEW = "classroom-student", "classroom-teacher"
REFRESH_SECONDS = 2.0  # the teacher's map asks for news this often; it redraws only when a digit came
rooms = classroom.Rooms()  # the open rooms of this server process

HELP = f"""
**The whole class on one map.** The teacher opens a room and shows its map; every student draws a digit and sends it.
Each digit lands exactly where the 2-number autoencoder and VAE put it (as *Digits → Your own latents* does), coloured
by the label the classifier gives it. The autoencoder puts most of the class's digits outside N(0, I)'s yellow 2σ ring,
over a range many times wider; the VAE packs most of them inside (`inside_2sigma`, per model); the 7s of different hands
form one cloud, and a digit drawn badly lands between clouds. No names are asked or kept; a room lives in this server's
memory for at most {classroom.ROOM_SECONDS // 3600} hours, or until the teacher closes it.
"""
STUDENT_HELP = f"""
Type the code on the teacher's screen (the teacher's link fills it in), pick the brush on the left, draw one digit and
press **Send to the class**. You may send a new digit to replace yours, once every {classroom.SEND_EVERY:g} seconds.
"""
TEACHER_HELP = f"""
Press **Open a class room** and show the code or the link. The maps refresh every {REFRESH_SECONDS:g} seconds while
digits arrive: each dot is one student's digit at its μ (on the VAE's map with its 2σ ellipse), the newest ringed in
white; each map shows the range of its own model's codes. Click a dot to see that drawing and its decodes. A room holds
{classroom.MAX_DIGITS} digits.
"""


def session_of(request):
    """The caller's browser (or gradio_client) session: all a room knows of a student."""
    if request is None or not request.session_hash:
        raise InputError("This request has no session: use the page, or gradio_client, which keeps one.")
    return request.session_hash


def as_jpeg(picture):
    """A map as a JPEG file: written in about a millisecond, where a PNG takes tens (a refresh's cost)."""
    return files.write_file(lambda path: picture.save(path, format="JPEG", quality=92), "class-map", ".jpg")


def maps_answer(snapshot):
    ae_map, vae_map, summary = on_model_thread(classroom.maps_view)(snapshot)
    return as_jpeg(ae_map), as_jpeg(vae_map), summary


@errors.friendly
def on_open(request: gr.Request):
    return rooms.open(session_of(request))


@errors.friendly
@on_model_thread
def on_send(code, drawing, request: gr.Request):
    """A student's digit, read and framed as every Digits view reads one, placed in the room."""
    return rooms.send(code, session_of(request), ink(drawing))


@errors.friendly
def on_map(code):
    return maps_answer(rooms.snapshot(code))


@errors.friendly
def on_refresh(code, seen):
    """The teacher's timer: nothing at all while the room is as last drawn (no wait behind other
    requests' model work: only a changed room's maps are drawn on a model thread); the timer stops
    when it ends."""
    if not code:
        return [gr.skip()] * 6
    try:
        snapshot = rooms.snapshot(code)
    except InputError as ended:
        return gr.skip(), gr.skip(), gr.skip(), None, gr.Timer(active=False), f"**{ended}**"
    if seen == (snapshot.code, snapshot.version):
        return [gr.skip()] * 6
    return (*maps_answer(snapshot), (snapshot.code, snapshot.version), gr.skip(), gr.skip())


@errors.friendly
def on_close(code, request: gr.Request):
    return rooms.close(code, session_of(request))


@errors.friendly
@on_model_thread
def on_pick(name, code, event: gr.SelectData):
    """A click on a map: the digit whose dot is nearest, its drawing and decodes."""
    snapshot = rooms.snapshot(code)
    return classroom.digit_view(snapshot, classroom.digit_at(snapshot, name, *event.index))


@errors.friendly
@on_model_thread
def on_prior(code, seed):
    return classroom.prior_view(rooms.snapshot(code), seed)


@errors.friendly
def on_page_load(request: gr.Request):
    """A link ending in ?room=CODE opens the student's view with the code filled in."""
    code = request.query_params.get("room") if request is not None else None
    if not code:
        return [gr.skip()] * 3
    return gr.Tabs(selected=VIEW), gr.Tabs(selected=STUDENT_VIEW), code[:40]


def sent_sentence(summary):
    label = "no digit" if summary["label"] == "no digit" else f"a {summary['label']}"
    again = " It replaced your earlier one." if summary["replaced"] else ""
    return (f"Sent to room **{summary['code']}**: the classifier reads your digit as **{label}** "
            f"({summary['confidence']:.0%}).{again} The room holds {classroom.digits_text(summary['count'])}: look at "
            f"the teacher's screen.")


def room_opened(summary):
    """The teacher's widgets once a room is open: its code, a sentence, a fresh start for the timer."""
    status = (f"Room **{summary['code']}** is open. Students open the link below, or this page's *{TITLE}* tab, and "
              f"type the code. It holds {summary['max_digits']} digits and ends by itself in "
              f"{classroom.minutes(summary['expires_in_s'])}.")
    return summary["code"], status, None, gr.Timer(active=True)


def room_closed(summary):
    return f"Room **{summary['code']}** is closed: its digits are gone.", "", None, gr.Timer(active=False)


# The link is made in the browser, from the address the page was opened at (behind any proxy).
LINK_JS = """(summary) => summary && summary.code
    ? window.location.origin + window.location.pathname + "?room=" + summary.code : "" """


def build_student():
    """Code, sketchpad, send: the student's view. /class_send itself takes a picture file (a hidden
    input); the page's button sends the sketchpad's drawing to the same handler."""
    with gr.Tab("Student: send your digit", id=STUDENT_VIEW, elem_id="class-student-tab"):
        gr.Markdown(STUDENT_HELP)
        with gr.Row():
            with gr.Column(scale=1):
                code = gr.Textbox(label="Class room code", placeholder="e.g. K7QX2M", max_length=40,
                                  elem_id="class-code")
                send_button = gr.Button("Send to the class", variant="primary")
                status = gr.Markdown(elem_id="class-send-status")
                summary = gr.JSON(label="Summary", elem_id="class-send-summary")
            with gr.Column(scale=1):
                drawing = sketchpad("Draw one digit here (pick the brush on the left first)", "class-sketch")
        api_drawing = widgets.image_input("drawing", visible=False)
        api_button = gr.Button(visible=False)
    api_button.click(on_send, [code, api_drawing], summary, api_name="class_send")
    send_button.click(on_send, [code, drawing], summary, api_visibility="private").success(
        sent_sentence, summary, status, api_visibility="private", queue=False)
    return code


def build_teacher_maps(code):
    """The two maps, the room's numbers, and the digit a click on either picks."""
    with gr.Row():
        ae_map = gr.Image(label=f"{AE_2D}: each digit at its point", interactive=False, elem_id="class-ae-map")
        vae_map = gr.Image(label=f"{VAE_2D}: each digit at μ, with its 2σ ellipse", interactive=False,
                           elem_id="class-vae-map")
    with gr.Row():
        summary = gr.JSON(label="The room's numbers", elem_id="class-map-summary")
        with gr.Column():
            picked = gr.Image(label="The dot you clicked: the drawing and its decodes", interactive=False,
                              elem_id="class-digit")
            picked_summary = gr.JSON(label="Summary", elem_id="class-digit-summary")
    for name, picture in ((AE_2D, ae_map), (VAE_2D, vae_map)):
        picture.select(on_pick, [gr.State(name), code], [picked, picked_summary], api_visibility="private")
    return ae_map, vae_map, summary


def build_prior(code):
    with gr.Row():
        seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
        button = gr.Button("Prior samples of the room")
    picture = gr.Image(label="The class's latest digits, then z ~ N(0, I) decoded by each model", interactive=False,
                       elem_id="class-prior")
    summary = gr.JSON(label="Summary", elem_id="class-prior-summary")
    button.click(on_prior, [code, seed], [picture, summary], api_name="class_prior")


def build_teacher():
    with gr.Tab("Teacher: the class map", id=TEACHER_VIEW, elem_id="class-teacher-tab"):
        gr.Markdown(TEACHER_HELP)
        with gr.Row(equal_height=True):
            open_button = gr.Button("Open a class room", variant="primary")
            code = gr.Textbox(label="Room code", max_length=40, elem_id="class-room-code")
            watch_button = gr.Button("Show this room")
            close_button = gr.Button("Close the room", variant="stop")
        status = gr.Markdown(elem_id="class-room-status")
        link = gr.Textbox(label="Link for the students", interactive=False, buttons=["copy"], elem_id="class-link")
        ae_map, vae_map, summary = build_teacher_maps(code)
        build_prior(code)
        room_summary = gr.JSON(label="The room", elem_id="class-room-summary")
        timer, seen = gr.Timer(REFRESH_SECONDS, active=False), gr.State(None)
    private = dict(api_visibility="private")
    open_button.click(on_open, None, room_summary, api_name="class_open").success(
        room_opened, room_summary, [code, status, seen, timer], **private).success(
        None, room_summary, link, js=LINK_JS, **private)
    watch_button.click(on_map, code, [ae_map, vae_map, summary], api_name="class_map").success(
        lambda: gr.Timer(active=True), None, timer, **private)
    close_button.click(on_close, code, room_summary, api_name="class_close").success(
        room_closed, room_summary, [status, link, seen, timer], **private)
    timer.tick(on_refresh, [code, seen], [ae_map, vae_map, summary, seen, timer, status], show_progress="hidden",
               **private)


def build(page):
    gr.Markdown(HELP)
    with gr.Tabs() as views:
        student_code = build_student()
        build_teacher()
    page.demo.load(on_page_load, None, [page.tabs, views, student_code], api_visibility="private")
    return {}
