"""The class room's core: codes, the limits (room size, one digit every 2 s, open rooms), expiry on
an injected clock, memory freed on close, digits placed where /digits_encode puts them, and the
maps, picks and prior row drawn from a room."""

import gc
import weakref

import numpy as np
import pytest
from PIL import ImageColor

from latent_lab.checks import InputError
from latent_lab.digits import api, classroom, maps
from latent_lab.digits.classroom import CODE_ALPHABET, CODE_LENGTH, MAP_MODELS, ROOM_SECONDS, SEND_EVERY, Rooms
from latent_lab.digits.framing import frame_digit
from latent_lab.digits import models
from latent_lab.training.mnist import sketch_digits

AE, VAE = MAP_MODELS


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def rooms(clock):
    return Rooms(clock=clock)


def held_out(index):
    """A shipped held-out digit as a framed ink (28, 28) in [0, 1]."""
    return models.test_digits()[0][index] / 255.0


def class_digit(index):
    """The index-th student's digit: held-out digits taken 0, 1, ..., 9, 0, ... (they ship sorted, 50 each)."""
    return (index % 10) * 50 + index // 10


def filled(rooms, clock, count, opener="teacher"):
    """A room with `count` held-out digits of every label from as many students; its code."""
    code = rooms.open(opener)["code"]
    for index in range(count):
        rooms.send(code, f"student-{index}", held_out(class_digit(index)))
    return code


def test_codes_are_random_unambiguous_and_checked_as_typed():
    codes = [classroom.new_code() for _ in range(2000)]
    assert all(len(code) == CODE_LENGTH >= 6 and set(code) <= set(CODE_ALPHABET) for code in codes)
    assert not set(CODE_ALPHABET) & set("01ILO")
    assert set("".join(codes)) == set(CODE_ALPHABET)  # every symbol is drawn
    assert len(set(codes[:200])) >= 199  # 887 million codes: two equal among 200 is a 1-in-40,000 event
    assert classroom.check_code(" k7qx-2m ") == "K7QX2M"
    for bad in (None, 7, "", "K7QX2", "K7QX2MM", "K7QX2O", "x" * 10_000):
        with pytest.raises(InputError, match="code") as refusal:
            classroom.check_code(bad)
        assert len(str(refusal.value)) < 200  # a long value is not echoed whole


def test_a_wrong_code_is_told_apart_from_an_ended_room(rooms, clock):
    code = rooms.open("teacher")["code"]
    guesses = [classroom.new_code() for _ in range(500)]
    for guess in guesses:
        if guess != code:
            with pytest.raises(InputError, match="No class room has the code"):
                rooms.snapshot(guess)
    rooms.close(code, "teacher")
    with pytest.raises(InputError, match="closed by its teacher"):
        rooms.send(code, "student", held_out(0))


def test_a_digit_is_placed_where_digits_encode_puts_it():
    pictures, _ = sketch_digits(per_digit=1, seed=3)
    for picture in pictures:
        digit = classroom.place(frame_digit(picture))
        for name in MAP_MODELS:
            encoded = api.digits_encode(picture, name)
            assert digit.mu[name] == encoded["mu"] and digit.sigma[name] == encoded["sigma"]
            assert (digit.label, digit.confidence) == (encoded["label"], encoded["confidence"])
    with pytest.raises(InputError, match="no ink"):
        classroom.place(np.zeros((28, 28), dtype=np.float32))


def test_one_digit_per_student_every_two_seconds(rooms, clock):
    code = rooms.open("teacher")["code"]
    first = rooms.send(code, "ann", held_out(0))
    rooms.send(code, "bob", held_out(1))
    assert (first["count"], first["replaced"], set(first["mu"])) == (1, False, set(MAP_MODELS))
    clock.now += SEND_EVERY - 0.1
    with pytest.raises(InputError, match="One digit every 2 seconds"):
        rooms.send(code, "ann", held_out(2))
    clock.now += 0.1
    again = rooms.send(code, "ann", held_out(2))
    assert (again["count"], again["replaced"]) == (2, True)
    summary = classroom.room_summary(rooms.snapshot(code))
    assert summary["version"] == 3
    assert summary[VAE]["points"][-1] == again["mu"][VAE]  # a replaced digit moves to the end of the order


def test_a_room_holds_at_most_100_digits_and_a_student_in_it_may_still_replace_theirs(rooms, clock):
    code = filled(rooms, clock, classroom.MAX_DIGITS)
    with pytest.raises(InputError, match="full: it holds 100 digits"):
        rooms.send(code, "late", held_out(0))
    clock.now += SEND_EVERY
    assert rooms.send(code, "student-5", held_out(200))["count"] == 100


def test_rooms_end_after_two_hours_and_their_memory_goes(rooms, clock):
    code = filled(rooms, clock, 3)
    clock.now += ROOM_SECONDS - 1
    assert rooms.snapshot(code).expires_in_s == 1
    clock.now += 1
    with pytest.raises(InputError, match="has ended: rooms last 2 hours"):
        rooms.snapshot(code)
    assert len(rooms) == 0


def test_closing_a_room_frees_its_digits_and_only_its_opener_may(rooms, clock):
    code = filled(rooms, clock, 20)
    room = weakref.ref(rooms._rooms[code])
    digit = weakref.ref(rooms._rooms[code].digits["student-0"].ink)
    with pytest.raises(InputError, match="Only the page that opened"):
        rooms.close(code, "student-0")
    assert rooms.close(code, "teacher") == {"code": code, "closed": True, "open_rooms": 0}
    gc.collect()
    assert room() is None and digit() is None and len(rooms) == 0


def test_open_rooms_are_bounded(clock):
    rooms = Rooms(clock=clock, max_rooms=2)
    first, _ = rooms.open("a")["code"], rooms.open("b")
    with pytest.raises(InputError, match="already holds 2 open class rooms"):
        rooms.open("c")
    rooms.close(first, "a")
    rooms.open("c")
    clock.now += ROOM_SECONDS
    assert rooms.open("d")["open_rooms"] == 1  # the ended rooms made room


def test_the_summary_counts_the_vaes_digits_inside_the_ring_and_the_aes_outside(rooms, clock):
    code = filled(rooms, clock, 40)
    summary = classroom.room_summary(rooms.snapshot(code))
    labels = [int(models.test_digits()[1][class_digit(index)]) for index in range(40)]
    assert summary["count"] == 40 and sum(a == b for a, b in zip(summary["labels"], labels)) >= 36
    for name in MAP_MODELS:
        points = np.array(summary[name]["points"])
        assert points.shape == (40, 2)
        assert summary[name]["inside_2sigma"] == int(((points ** 2).sum(axis=1) <= 4).sum())
    assert summary[VAE]["inside_2sigma"] > summary[AE]["inside_2sigma"]
    assert len(summary[VAE]["sigmas"]) == 40 and "sigmas" not in summary[AE]


def test_the_maps_place_each_dot_and_a_click_picks_it(rooms, clock):
    code = filled(rooms, clock, 12)
    snapshot = rooms.snapshot(code)
    ae_map, vae_map, summary = classroom.maps_view(snapshot)
    plane, background = classroom.background(VAE)
    assert vae_map.size == background.size == (plane.side, plane.side + classroom.LEGEND)
    newest = len(snapshot.digits) - 1  # drawn last: on top of any dot it meets
    for name, picture in ((AE, ae_map), (VAE, vae_map)):
        plane = classroom.background(name)[0]
        x, y = classroom.dot_position(plane, summary[name]["points"][newest])
        colour = maps.LABEL_COLOURS[summary["labels"][newest]]
        assert picture.getpixel((round(x), round(y))) == ImageColor.getrgb(colour)
        assert classroom.digit_at(snapshot, name, x + 2, y - 2) == newest
    with pytest.raises(InputError, match="no digit there"):
        classroom.digit_at(snapshot, VAE, 0, plane.side + 40)
    picture, picked = classroom.digit_view(snapshot, 7)
    assert picked["index"] == 7 and picked[VAE]["mu"] == summary[VAE]["points"][7]
    assert all(picked[name]["decoded_label"] in list(range(10)) + ["no digit"] for name in MAP_MODELS)
    assert picture.width > 3 * 28 * 4


def test_the_prior_row_sits_beside_the_class_digits(rooms, clock):
    code = rooms.open("teacher")["code"]
    picture, empty = classroom.prior_view(rooms.snapshot(code), seed=1)
    assert "class" not in empty and all(len(empty[name]["labels"]) == classroom.PRIOR_COUNT for name in MAP_MODELS)
    rooms.send(code, "ann", held_out(0))
    taller, summary = classroom.prior_view(rooms.snapshot(code), seed=1)
    assert len(summary["class"]["labels"]) == 1 and taller.height > picture.height
    assert summary[VAE] == empty[VAE]  # the same seed, the same latents
    with pytest.raises(InputError, match="seed"):
        classroom.prior_view(rooms.snapshot(code), seed=-1)
