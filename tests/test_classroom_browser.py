"""The class room in a real browser (Debian's chromium driven by Playwright): a teacher's page and
a student's page at once. The student opens the teacher's link, draws a 7 and sends it; the
teacher's map gains the dot on its own refresh, then a class of held-out digits arrives."""

from pathlib import Path
import time

import pytest
from gradio_client import Client, handle_file
from PIL import Image

from latent_lab.digits import classroom
from latent_lab.digits import models
from tests.test_browser import CHROMIUM, FLAGS, SCREENSHOTS, draw
from ui import classroom as class_ui

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]
VAE = classroom.MAP_MODELS[1]
CLASS_SIZE = 24  # held-out digits sent through the API after the student's


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def wait_until(page, check, what, seconds=90):
    """Poll `check` until it holds; the deadline is generous, only there to end a stuck test."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        page.wait_for_timeout(250)


def text_of(page, elem_id):
    return page.locator(f"#{elem_id}").inner_text().replace(" ", "").replace("\n", "")


def value_of(page, elem_id):
    return page.locator(f"#{elem_id}").locator("input, textarea").first.input_value(timeout=90_000)


def open_room(page):
    page.get_by_role("tab", name="Class room", exact=True).click()
    page.get_by_role("tab", name="Teacher: the class map", exact=True).click()
    page.get_by_role("button", name="Open a class room").click()
    page.locator("#class-room-status").get_by_text("is open").wait_for(timeout=60_000)
    wait_until(page, lambda: value_of(page, "class-link").endswith(f"?room={value_of(page, 'class-room-code')}"),
               "the link")
    return value_of(page, "class-room-code"), value_of(page, "class-link")


def send_a_seven(page, link, code):
    page.goto(link)
    wait_until(page, lambda: value_of(page, "class-code") == code, "the link to fill in the code")
    canvas = page.locator("#class-sketch canvas").first
    canvas.wait_for(state="visible", timeout=30_000)
    page.locator("#class-sketch").get_by_role("button", name="Brush").click()
    draw(page, canvas, [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]])
    page.wait_for_timeout(2000)  # the drawing reaches the server before the button reads it
    page.get_by_role("button", name="Send to the class").click()
    page.locator("#class-send-status").get_by_text("Sent to room").wait_for(timeout=60_000)


def send_the_class(app_url, code, folder):
    """Held-out digits of every label (they ship sorted, 50 of each) from as many sessions, through the API."""
    images, _ = models.test_digits()
    for index in range(CLASS_SIZE):
        path = folder / f"digit-{index}.png"
        Image.fromarray(images[(index % 10) * 50 + index // 10]).resize((112, 112), Image.NEAREST).save(path)
        Client(app_url, verbose=False).predict(code, handle_file(str(path)), api_name="/class_send")


def click_a_dot(page, point):
    """Click the VAE map where the dot of latent `point` is drawn."""
    picture = page.locator("#class-vae-map img").first
    box, natural = picture.bounding_box(), picture.evaluate("img => img.naturalWidth")
    x, y = classroom.dot_position(classroom.background(VAE)[0], point)
    picture.click(position={"x": x * box["width"] / natural, "y": y * box["width"] / natural})
    page.locator("#class-digit-summary").get_by_text('"decoded_label"').first.wait_for(timeout=60_000)


def test_the_teachers_map_gains_a_dot_when_a_student_sends_one(app_url, browser, tmp_path):
    teacher = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    student = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
    teacher.goto(app_url)
    code, link = open_room(teacher)
    wait_until(teacher, lambda: '"count":0' in text_of(teacher, "class-map-summary"), "the empty room's map")
    send_a_seven(student, link, code)
    wait_until(teacher, lambda: '"count":1' in text_of(teacher, "class-map-summary"), "the timer to show the dot")
    assert '"labels":[7]' in text_of(teacher, "class-map-summary")
    SCREENSHOTS.mkdir(exist_ok=True)
    student.screenshot(path=str(SCREENSHOTS / "class-room-student.png"), full_page=True)
    send_the_class(app_url, code, tmp_path)
    wait_until(teacher, lambda: f'"count":{1 + CLASS_SIZE}' in text_of(teacher, "class-map-summary"), "the class")
    click_a_dot(teacher, class_ui.rooms.snapshot(code).digits[-1].mu[VAE])  # the newest: on top of the others
    teacher.get_by_role("button", name="Prior samples of the room").click()
    teacher.locator("#class-prior-summary").get_by_text('"digit_likeness"').first.wait_for(timeout=60_000)
    teacher.locator("#class-vae-map").scroll_into_view_if_needed()
    teacher.wait_for_timeout(1500)
    teacher.screenshot(path=str(SCREENSHOTS / "class-room.png"), full_page=True)
    teacher.get_by_role("button", name="Close the room").click()
    teacher.locator("#class-room-status").get_by_text("closed").wait_for(timeout=60_000)  # by the button or the timer
