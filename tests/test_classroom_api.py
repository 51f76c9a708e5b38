"""The class room through the public API, as a class uses it: a teacher's client opens a room,
students' clients (each its own session) send drawn digits, and the map places every one where
/digits_encode puts it. The limits and wrong codes get one plain sentence each."""

import pytest
from gradio_client import Client, handle_file

from latent_lab.digits.classroom import CODE_LENGTH, MAP_MODELS, SEND_EVERY, new_code
from latent_lab.training.mnist import sketch_digits
from ui import classroom as class_ui

AE, VAE = MAP_MODELS


@pytest.fixture(scope="module")
def teacher(app_url):
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def drawings(tmp_path_factory):
    """Digits drawn as on the page's canvas: one of each 0-9, and a second 1 and 7 (files)."""
    folder = tmp_path_factory.mktemp("class-drawings")
    pictures, labels = sketch_digits(per_digit=1, seed=5)
    more, more_labels = sketch_digits(per_digit=2, seed=6)
    chosen = list(zip(pictures, labels)) + [(more[2 * digit + 1], digit) for digit in (1, 7)]
    paths = []
    for index, (picture, label) in enumerate(chosen):
        paths.append(str(folder / f"{index:02d}-a-{label}.png"))
        picture.save(paths[-1])
    return paths


@pytest.fixture
def frozen_clock(monkeypatch):
    """The server's room clock, moved by hand: "too soon" is then a fact, not a race."""
    now = [class_ui.rooms.clock()]
    monkeypatch.setattr(class_ui.rooms, "clock", lambda: now[0])
    return now


def open_room(client, max_digits=100):
    summary = client.predict(api_name="/class_open")
    assert len(summary["code"]) == CODE_LENGTH and summary["max_digits"] == max_digits
    assert summary["expires_in_s"] == 2 * 60 * 60 and summary["link"] == f"?room={summary['code']}"
    return summary["code"]


def test_every_digit_lands_where_digits_encode_puts_it(app_url, teacher, drawings):
    code = open_room(teacher)
    students = [Client(app_url, verbose=False) for _ in drawings]
    for count, (student, drawing) in enumerate(zip(students, drawings), start=1):
        sent = student.predict(code.lower(), handle_file(drawing), api_name="/class_send")
        assert (sent["code"], sent["count"], sent["replaced"]) == (code, count, False)
    ae_map, vae_map, summary = teacher.predict(code, api_name="/class_map")
    assert ae_map.endswith(".jpg") and vae_map.endswith(".jpg")
    assert summary["count"] == len(drawings)
    for index, drawing in enumerate(drawings):
        for name in MAP_MODELS:
            encoded = teacher.predict(handle_file(drawing), name, api_name="/digits_encode")
            assert summary[name]["points"][index] == encoded["mu"]
            if name == VAE:
                assert summary[name]["sigmas"][index] == encoded["sigma"]
        assert summary["labels"][index] == encoded["label"]
    right = sum(label == int(drawing.split("-a-")[1][0]) for label, drawing in zip(summary["labels"], drawings))
    assert right >= 10  # of 12 drawn digits
    assert summary[VAE]["inside_2sigma"] > summary[AE]["inside_2sigma"]
    assert teacher.predict(code, api_name="/class_close")["closed"] is True


def test_a_student_replaces_their_digit_once_two_seconds_have_passed(teacher, drawings, frozen_clock):
    code = open_room(teacher)
    teacher.predict(code, handle_file(drawings[7]), api_name="/class_send")
    with pytest.raises(Exception, match="One digit every 2 seconds"):
        teacher.predict(code, handle_file(drawings[1]), api_name="/class_send")
    frozen_clock[0] += SEND_EVERY
    again = teacher.predict(code, handle_file(drawings[1]), api_name="/class_send")
    assert (again["count"], again["replaced"], again["label"]) == (1, True, 1)
    _, _, summary = teacher.predict(code, api_name="/class_map")
    assert summary["labels"] == [1] and summary["version"] == 2
    teacher.predict(code, api_name="/class_close")


def test_a_full_room_a_wrong_code_and_no_drawing_each_get_a_sentence(app_url, teacher, drawings, monkeypatch):
    monkeypatch.setattr(class_ui.rooms, "max_digits", 2)
    code = open_room(teacher, max_digits=2)
    for drawing in drawings[:2]:
        Client(app_url, verbose=False).predict(code, handle_file(drawing), api_name="/class_send")
    with pytest.raises(Exception, match=f"The class room {code} is full: it holds 2 digits"):
        Client(app_url, verbose=False).predict(code, handle_file(drawings[3]), api_name="/class_send")
    for wrong, message in ((code[:-1], "6 capital letters"), ("", "Type the class room's code"),
                           (new_code() if code != "K7QX2M" else "K7QX2N", "No class room has the code")):
        if wrong == code:
            continue
        with pytest.raises(Exception, match=message):
            teacher.predict(wrong, handle_file(drawings[0]), api_name="/class_send")
    with pytest.raises(Exception, match="Draw a digit first"):
        teacher.predict(code, None, api_name="/class_send")
    teacher.predict(code, api_name="/class_close")


def test_codes_are_not_guessed(teacher):
    code = open_room(teacher)
    for guess in (new_code() for _ in range(40)):
        if guess != code:
            with pytest.raises(Exception, match="No class room has the code"):
                teacher.predict(guess, api_name="/class_map")
    teacher.predict(code, api_name="/class_close")


def test_only_the_teacher_closes_and_closing_gives_the_memory_back(app_url, teacher, drawings):
    rooms_before = len(class_ui.rooms)
    code = open_room(teacher)
    student = Client(app_url, verbose=False)
    student.predict(code, handle_file(drawings[4]), api_name="/class_send")
    assert len(class_ui.rooms) == rooms_before + 1
    with pytest.raises(Exception, match="Only the page that opened"):
        student.predict(code, api_name="/class_close")
    assert teacher.predict(code, api_name="/class_close") == {"code": code, "closed": True,
                                                              "open_rooms": rooms_before}
    assert len(class_ui.rooms) == rooms_before
    with pytest.raises(Exception, match="closed by its teacher"):
        student.predict(code, handle_file(drawings[4]), api_name="/class_send")


def test_the_prior_row_decodes_the_same_latents_for_the_same_seed(teacher, drawings):
    code = open_room(teacher)
    teacher.predict(code, handle_file(drawings[3]), api_name="/class_send")
    _, first = teacher.predict(code, 4, api_name="/class_prior")
    _, again = teacher.predict(code, 4, api_name="/class_prior")
    assert first == again and first["class"]["labels"] == [3]
    assert len(first[VAE]["labels"]) == len(first[AE]["labels"]) == 12
    teacher.predict(code, api_name="/class_close")
