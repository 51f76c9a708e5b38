"""A class room: students send the digits they draw, and the teacher's screen places every one on
the 2-number maps, live.

Rooms live in this server process's memory only, each at most ROOM_SECONDS or until its teacher
closes it; nothing about a room is written to disk. A digit is placed once, when it is sent, by
/digits_encode's steps (each model's encoder and the classifier on the framed digit), so the
teacher's refresh only draws dots on map pictures drawn once per server.
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
import secrets
import threading
import time

import numpy as np
import torch
from PIL import Image, ImageDraw

from latent_lab.checks import InputError, MAX_SEED, check_number, round_summary, shorten
from latent_lab.digits import classifier, latents, maps, pictures
from latent_lab.digits.models import load, names
from latent_lab.digits.samples import check_ink

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols: no 0 or O, 1, I or L to mistake
CODE_LENGTH = 6  # 31**6 = 887 million codes: with MAX_ROOMS open, a guess finds one once in ~18 million
MAX_ROOMS = 50  # open at once in one server: a full room holds about 130 KB, 50 of them about 7 MB
MAX_DIGITS = 100  # per room: one per student
SEND_EVERY = 2.0  # seconds a student waits between two digits
ROOM_SECONDS = 2 * 60 * 60  # a room ends by itself after two hours
ENDED_KEPT = 4 * MAX_ROOMS  # codes of ended rooms remembered, to say "ended" instead of "no such room"
INSIDE = 2.0  # N(0, I)'s 2σ ring: radius 2 in latent units
MAP_MODELS = tuple(names(latent_dim=2))  # (the 2-number AE, the 2-number VAE)
PRIOR_COUNT = 12  # random latents per model in the room's prior row
RING_COLOUR = "#ffffff"  # around the newest digit; a "no digit" is a ring of it, not a dot
DIM = 0.45  # the decoded plane behind the dots, at this share of its brightness
LEGEND = 46  # pixels under a map: the label colours, then the counts
DOT, PICK = 7, 16  # a digit's dot radius, and how near a click must be to pick it, in pixels


def new_code():
    """A fresh random room code, e.g. "K7QX2M" (the `secrets` module: not guessable from earlier codes)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def check_code(code):
    """A room code as typed (spaces and dashes dropped, small letters allowed), or an InputError."""
    if not isinstance(code, str) or not code.strip():
        raise InputError(f"Type the class room's code first: the {CODE_LENGTH} characters on the teacher's screen.")
    typed = code.strip().upper().replace(" ", "").replace("-", "")
    if len(typed) != CODE_LENGTH or any(symbol not in CODE_ALPHABET for symbol in typed):
        raise InputError(f"A class room's code is {CODE_LENGTH} capital letters and digits 2-9 (no I, L, O, 0 or 1), "
                         f"like K7QX2M; got {shorten(code, 20)}.")
    return typed


def minutes(seconds):
    return f"{max(1, round(seconds / 60))} min"


def digits_text(count):
    return f"{count} digit{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class ClassDigit:
    """One student's digit, placed when it was sent: where /digits_encode puts it with each
    2-number model (its μ, the VAE's σ), the classifier's label, and the framed drawing."""
    ink: np.ndarray  # (28, 28) uint8, light ink on black, as the models saw it
    label: object  # 0-9, or "no digit"
    confidence: float
    mu: dict  # {model name: [z1, z2]}
    sigma: dict  # {model name: [σ1, σ2], or None for the autoencoder}


def place(ink):
    """A framed digit (28, 28), as frame_digit makes it -> a ClassDigit, placed by /digits_encode's
    steps: each model's encoder and the classifier on that one digit, rounded alike."""
    ink = check_ink(ink)  # (28, 28) float in [0, 1], with some ink
    placed = {}
    for name in MAP_MODELS:
        mu, sigma = latents.encode(load(name), ink[None])  # (1, 2) each; σ is None for the AE
        placed[name] = {"mu": mu[0].tolist(), "sigma": None if sigma is None else sigma[0].tolist()}
    labels, confidences = classifier.classify(None, ink[None])
    placed = round_summary({"label": classifier.label_name(labels[0]), "confidence": float(confidences[0]), **placed})
    return ClassDigit((ink * 255).round().to(torch.uint8).numpy(), placed["label"], placed["confidence"],
                      {name: placed[name]["mu"] for name in MAP_MODELS},
                      {name: placed[name]["sigma"] for name in MAP_MODELS})


@dataclass
class Room:
    """An open room: its digits by session (in send order: a replaced digit moves to the end),
    when each session last sent one, and a version that grows with every digit."""
    code: str
    opener: str  # the session that opened it: only that page closes it
    ends: float  # clock time at which it ends by itself
    digits: dict = field(default_factory=dict)  # session -> ClassDigit
    last_sent: dict = field(default_factory=dict)  # session -> clock time
    version: int = 0


@dataclass(frozen=True)
class Snapshot:
    """What a view of a room needs, copied under the lock: safe to draw from while students send."""
    code: str
    version: int
    expires_in_s: int
    digits: tuple  # ClassDigit, in send order


class Rooms:
    """The open class rooms of one server process, in memory only. `clock` (seconds) is injectable
    for tests; every call first ends the rooms whose time is up."""

    def __init__(self, clock=time.monotonic, max_rooms=MAX_ROOMS, max_digits=MAX_DIGITS):
        self.clock, self.max_rooms, self.max_digits = clock, max_rooms, max_digits
        self._rooms, self._ended = {}, OrderedDict()  # code -> Room; code -> why it ended
        self._lock = threading.Lock()

    def __len__(self):
        return len(self._rooms)

    def open(self, opener):
        """A new room opened by session `opener`; its summary (code, link, limits)."""
        with self._lock:
            self._end_expired()
            if len(self._rooms) >= self.max_rooms:
                raise InputError(f"This server already holds {self.max_rooms} open class rooms, the most it keeps. "
                                 f"Close one, or try again when one ends (rooms last {ROOM_SECONDS // 3600} hours).")
            code = new_code()
            while code in self._rooms or code in self._ended:
                code = new_code()
            self._rooms[code] = Room(code, opener, self.clock() + ROOM_SECONDS)
            return {"code": code, "link": f"?room={code}", "expires_in_s": ROOM_SECONDS,
                    "max_digits": self.max_digits, "send_every_s": SEND_EVERY, "open_rooms": len(self._rooms)}

    def send(self, code, session, ink):
        """Place a session's framed digit in the room (replacing its earlier one); the send's summary."""
        code = check_code(code)
        with self._lock:
            self._may_send(code, session)  # refused before any model work
        digit = place(ink)
        with self._lock:
            room = self._may_send(code, session)  # again: the room may have changed meanwhile
            replaced = room.digits.pop(session, None) is not None
            room.digits[session] = digit
            room.last_sent[session], room.version = self.clock(), room.version + 1
            count = len(room.digits)
        return round_summary({"code": code, "count": count, "max_digits": self.max_digits, "replaced": replaced,
                              "label": digit.label, "confidence": digit.confidence, "mu": digit.mu,
                              "sigma": digit.sigma})

    def _may_send(self, code, session):
        self._end_expired()
        room = self._find(code)
        waited = self.clock() - room.last_sent.get(session, -np.inf)
        if waited < SEND_EVERY:
            raise InputError(f"One digit every {SEND_EVERY:g} seconds, please: wait "
                             f"{SEND_EVERY - waited:.1f} s, then send again (your new digit replaces the old one).")
        if session not in room.digits and len(room.digits) >= self.max_digits:
            raise InputError(f"The class room {code} is full: it holds {self.max_digits} digits, the most a room "
                             f"takes. Ask your teacher to open another.")
        return room

    def snapshot(self, code):
        """The room's digits and version, copied (references only: microseconds, fit for every refresh);
        a view draws from them outside the lock."""
        code = check_code(code)
        with self._lock:
            self._end_expired()
            room = self._find(code)
            return Snapshot(code, room.version, int(room.ends - self.clock()), tuple(room.digits.values()))

    def close(self, code, session):
        """End the room now and drop its digits; only the session that opened it may."""
        code = check_code(code)
        with self._lock:
            self._end_expired()
            room = self._find(code)
            if room.opener != session:
                raise InputError(f"Only the page that opened the class room {code} can close it; it ends by itself "
                                 f"in {minutes(room.ends - self.clock())}.")
            self._end(code, f"The class room {code} was closed by its teacher.")
            return {"code": code, "closed": True, "open_rooms": len(self._rooms)}

    def _find(self, code):
        room = self._rooms.get(code)
        if room is None:
            raise InputError(self._ended.get(code) or f"No class room has the code {code}. Check the code on the "
                                                      f"teacher's screen, or ask for the link.")
        return room

    def _end(self, code, why):
        del self._rooms[code]  # its digits go with it
        self._ended[code] = why
        while len(self._ended) > ENDED_KEPT:
            self._ended.popitem(last=False)

    def _end_expired(self):
        now = self.clock()
        for code in [code for code, room in self._rooms.items() if now >= room.ends]:
            self._end(code, f"The class room {code} has ended: rooms last {ROOM_SECONDS // 3600} hours. "
                            f"Ask your teacher to open a new one.")


def dot_colour(label):
    return RING_COLOUR if label == "no digit" else maps.LABEL_COLOURS[label]


def inside_ring(points):
    """How many latent points [z1, z2] lie inside N(0, I)'s 2σ ring."""
    return sum(1 for z1, z2 in points if z1 * z1 + z2 * z2 <= INSIDE * INSIDE)


def room_summary(snapshot):
    """The numbers of a room's map: count, labels, and per 2-number model every digit's μ in send
    order (the VAE's σ too) and how many lie inside N(0, I)'s 2σ ring."""
    digits, count = snapshot.digits, len(snapshot.digits)
    summary = {"code": snapshot.code, "count": count, "version": snapshot.version,
               "expires_in_s": snapshot.expires_in_s, "labels": [digit.label for digit in digits],
               "confidences": [digit.confidence for digit in digits]}
    for name in MAP_MODELS:
        points = [digit.mu[name] for digit in digits]
        inside = inside_ring(points)
        summary[name] = {"points": points, "inside_2sigma": inside,
                         "inside_2sigma_share": inside / count if count else 0.0}
        if load(name).config.kind == "vae":
            summary[name]["sigmas"] = [digit.sigma[name] for digit in digits]
    return round_summary(summary)


def dot(draw, x, y, label):
    """A digit's dot at pixel (x, y), filled with its label's colour; a ring for "no digit"."""
    filled = label != "no digit"
    draw.ellipse([x - DOT, y - DOT, x + DOT, y + DOT], fill=dot_colour(label) if filled else None,
                 outline=RING_COLOUR, width=1 if filled else 2)


@cache
def background(name):
    """(plane, picture) of a model's class map, drawn once per server: its plane over the range of
    its own test codes, decoded and dimmed so the dots stand out, N(0, I)'s 1σ-3σ rings, and under
    it a legend of the label colours and room for the counts."""
    plane = maps.plane_for(name, "codes")
    cells = plane.cells
    inks = latents.decode(load(maps.check_map_model(name)), plane.points()) * DIM  # (cells², 28, 28)
    grid = pictures.grid_picture([inks[row * cells:(row + 1) * cells] for row in range(cells)], scale=1)
    picture = Image.new("RGB", (plane.side, plane.side + LEGEND), "black")
    picture.paste(grid, (0, 0))
    draw = ImageDraw.Draw(picture)
    for radius in (1, 2, 3):
        maps._ellipse(draw, plane, (0, 0), (radius, radius), maps.PRIOR_COLOUR, 2 if radius == INSIDE else 1)
    for index, label in enumerate(list(range(10)) + ["no digit"]):
        x, y = 12 + index * plane.side / 11.5, plane.side + 12
        dot(draw, x, y, label)
        name = "none" if label == "no digit" else str(label)
        draw.text((x + DOT + 3, y - 7), name, fill="white", font=pictures.font(12))
    return plane, picture


def dot_position(plane, mu):
    """Where a digit's dot goes on a map picture: at its μ, or at the edge when μ is off the map."""
    x, y = plane.to_pixel(*mu)
    return min(max(x, DOT), plane.side - DOT), min(max(y, DOT), plane.side - DOT)


def class_map(name, snapshot):
    """A model's map with every digit of the room at its μ, coloured by its label (the VAE's 2σ
    ellipse around it: σ is small, the 1σ one hides under the dot; the newest ringed in white),
    and the counts under it."""
    plane, picture = background(name)
    picture = picture.copy()  # (side + LEGEND, side, 3): the background stays as drawn
    draw = ImageDraw.Draw(picture)
    points = [digit.mu[name] for digit in snapshot.digits]
    for digit in snapshot.digits:
        if digit.sigma[name] is not None:
            radii = [2 * sigma for sigma in digit.sigma[name]]
            maps._ellipse(draw, plane, digit.mu[name], radii, dot_colour(digit.label), 2)
    for digit in snapshot.digits:
        dot(draw, *dot_position(plane, digit.mu[name]), digit.label)
    if points:
        x, y = dot_position(plane, points[-1])
        draw.ellipse([x - DOT - 4, y - DOT - 4, x + DOT + 4, y + DOT + 4], outline=RING_COLOUR, width=2)
    off_map = sum(1 for point in points if not plane.contains(*point))
    counts = f"{digits_text(len(points))}, {inside_ring(points)} inside N(0, I)'s 2-sigma ring"
    draw.text((8, plane.side + 27), counts + (f", {off_map} beyond the map (at its edge)" if off_map else ""),
              fill="white", font=pictures.font(13))
    return picture


def maps_view(snapshot):
    """(AE's map, VAE's map, summary) of a room: drawn from the cached backgrounds, in milliseconds."""
    pictures_by_model = [class_map(name, snapshot) for name in MAP_MODELS]
    return (*pictures_by_model, room_summary(snapshot))


def digit_at(snapshot, name, x, y):
    """The send-order index of the digit whose dot is nearest to pixel (x, y) of `name`'s map."""
    plane = background(maps.check_map_model(name))[0]
    x, y = check_number(x, "x", 0, plane.side + LEGEND), check_number(y, "y", 0, plane.side + LEGEND)
    distances = [np.hypot(*np.subtract(dot_position(plane, digit.mu[name]), (x, y))) for digit in snapshot.digits]
    if not distances or min(distances) > PICK:
        raise InputError("There is no digit there: click on a dot of the map.")
    return len(distances) - 1 - int(np.argmin(distances[::-1]))  # of dots drawn over each other, the top one


def digit_view(snapshot, index):
    """(picture, summary) of one digit of the room: the drawing as the models saw it, then each
    2-number model's decode of its μ, labelled."""
    if not snapshot.digits:
        raise InputError(f"The class room {snapshot.code} has no digits yet.")
    index = check_number(index, "The digit's number", 0, len(snapshot.digits) - 1, integer=True)
    digit = snapshot.digits[index]
    decodes = [latents.decode(load(name), [digit.mu[name]])[0] for name in MAP_MODELS]  # each (28, 28)
    inks = np.stack([digit.ink / 255.0] + [ink.numpy() for ink in decodes]).astype(np.float32)  # (3, 28, 28)
    labels, _, captions, _ = pictures.labelled(inks)
    picture = pictures.grid_picture([inks], [captions], ["drawn, then decode(mu)\nby " + " and ".join(
        name.removeprefix("digits-") for name in MAP_MODELS)], scale=4)
    summary = {"code": snapshot.code, "index": index, "label": digit.label, "confidence": digit.confidence}
    for name, label in zip(MAP_MODELS, labels[1:]):
        summary[name] = {"mu": digit.mu[name], "sigma": digit.sigma[name],
                         "decoded_label": classifier.label_name(label)}
    return picture, round_summary(summary)


def prior_view(snapshot, seed=0, count=PRIOR_COUNT):
    """(picture, summary): the room's latest drawings beside the same seeded z ~ N(0, I) decoded by
    each 2-number model, every cell labelled: do random latents look like the class's digits?"""
    seed = check_number(seed, "The seed", 0, MAX_SEED, integer=True)
    z = maps.prior_z(count, 2, seed)  # (count, 2)
    rows = [("class", "the class's digits", np.stack([digit.ink for digit in snapshot.digits[-count:]]) / 255.0)
            ] if snapshot.digits else []  # (≤ count, 28, 28)
    rows += [(name, f"{name}\nz ~ N(0, I)", latents.decode(load(name), z).numpy()) for name in MAP_MODELS]
    summary, captions = {"code": snapshot.code, "seed": seed, "count": count}, []
    for key, _, inks in rows:
        labels, _, row_captions, clear = pictures.labelled(inks)
        captions.append(row_captions)
        summary[key] = {"labels": [classifier.label_name(label) for label in labels],
                        "digit_likeness": float(clear.mean())}
    picture = pictures.grid_picture([inks for *_, inks in rows], captions, [title for _, title, _ in rows], scale=2)
    return picture, round_summary(summary)
