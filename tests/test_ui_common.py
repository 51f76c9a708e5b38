"""ui/errors.py, ui/answers.py, ui/files.py and ui/widgets.py: what every tab shares. Errors become
plain sentences, pictures leave as files written whole, and uploads are read only from Gradio's own
folder."""

from pathlib import Path

import gradio as gr
from gradio.components.plot import PlotData
from PIL import Image
import pytest

from latent_lab.imaging import UNREADABLE, ImageError
from ui import answers, errors, files, widgets
from tests.conftest import photo_like


def test_expected_errors_keep_their_sentence_and_others_get_a_plain_one(caplog):
    @errors.friendly
    def refuses():
        raise ImageError("Upload a PNG.")

    @errors.friendly
    def breaks(error):
        raise error

    with pytest.raises(gr.Error, match="Upload a PNG."):
        refuses()
    for error in (KeyError("/srv/secret/path"), ValueError("a tensor of /srv/secret shape")):
        with pytest.raises(gr.Error) as caught:
            breaks(error)  # not one of ours: its text is no sentence for a user
        assert caught.value.message == errors.SOMETHING_WENT_WRONG and "secret" not in caught.value.message
    assert "secret" in caplog.text  # the details go to the log


def test_pictures_leave_as_whole_files_in_every_output_shape():
    picture = photo_like(40, 30)

    @errors.friendly
    def outputs():
        return picture, [picture, (picture, "caption")], {"n": 1}

    @errors.friendly
    def streams():
        yield picture, {"step": 1}

    single, gallery, summary = outputs()
    (streamed, _), = list(streams())
    paths = [single, gallery[0], gallery[1][0], streamed]
    assert all(isinstance(path, str) and Path(path).suffix == ".png" for path in paths)
    assert all(Image.open(path).size == (40, 30) for path in paths)
    assert gallery[1][1] == "caption" and summary == {"n": 1}
    assert paths[0] == paths[1] == paths[2]  # one picture is written once per answer
    assert paths[3] != paths[0]  # each answer writes its own files: no request rewrites another's


def test_streamed_answers_are_thinned_but_the_first_and_the_last_always_go(monkeypatch):
    @errors.friendly
    def counts():
        for step in range(10):
            yield {"step": step}

    monkeypatch.setattr(errors, "STREAM_EVERY", 3600.0)  # every partial answer comes too soon
    assert list(counts()) == [{"step": 0}, {"step": 9}]
    monkeypatch.setattr(errors, "STREAM_EVERY", 0.0)
    assert list(counts()) == [{"step": k} for k in range(10)]


def test_a_file_is_not_there_under_its_name_until_it_is_whole(monkeypatch):
    seen = []

    def save(path):
        seen.append(sorted(p.name for p in files.FOLDER.glob("lesson-check-*")))
        Path(path).write_text("whole")

    path = files.write_file(save, "lesson-check", ".json")
    assert Path(path).name not in seen[0] and Path(path).read_text() == "whole"


def test_a_views_animations_and_figure_are_made_together_and_whole():
    from matplotlib.figure import Figure
    import imageio.v2 as imageio
    frames = [Image.new("RGB", (34, 22), (40 * k, 0, 255 - 40 * k)) for k in range(5)]
    figure = Figure()
    figure.add_subplot().plot([0, 1], [1, 0])
    gif, mp4, drawing = files.animated(frames, figure)
    with Image.open(gif) as animation:
        assert animation.n_frames == 8  # forward, then back without repeating the ends
    video = imageio.get_reader(mp4)
    assert [frame.shape for frame in video] == [(22, 34, 3)] * 5
    video.close()
    assert isinstance(drawing, PlotData) and drawing.type == "matplotlib"
    assert files.animated(frames, figure, video=False)[1] is None


def test_uploads_are_read_only_from_gradios_folder(tmp_path):
    inside = Path(gr.utils.get_upload_folder()) / "ui-common-test" / "photo.png"
    inside.parent.mkdir(parents=True, exist_ok=True)
    photo_like().save(inside)
    outside = tmp_path / "photo.png"
    photo_like().save(outside)
    image_input = widgets.ImageFile()
    assert image_input.preprocess(gr.FileData(path=str(inside))) == inside.read_bytes()
    for path in (outside, inside.parent / ".." / ".." / str(outside).lstrip("/"), tmp_path, "/etc/passwd"):
        with pytest.raises(gr.Error, match=UNREADABLE.replace(".", r"\.")):
            image_input.preprocess(gr.FileData(path=str(path)))
    link = inside.parent / "link.png"
    link.unlink(missing_ok=True)
    link.symlink_to(outside)  # a link inside the folder to a file outside it
    with pytest.raises(gr.Error):
        image_input.preprocess(gr.FileData(path=str(link)))


def test_identical_requests_are_computed_once_and_get_the_same_answer():
    from concurrent.futures import ThreadPoolExecutor
    from latent_lab import plots
    calls = []

    @answers.remembered
    def handler(picture, steps):
        calls.append(steps)
        return photo_like(32, 32, seed=steps), plots.new_figure(2, 2), {"steps": steps}

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda k: handler(b"same picture", 3 if k % 2 else 4), range(16)))
    assert sorted(calls) == [3, 4]  # once per distinct input
    by_steps = {answer[2]["steps"]: answer for answer in results}
    assert all(answer[0] == by_steps[answer[2]["steps"]][0] for answer in results)  # the same file
    plot = by_steps[3][1]  # the figure, drawn once as gr.Plot sends it
    assert isinstance(plot, PlotData) and plot.plot.startswith("data:image/webp;base64,")
    assert all(answer[1] is by_steps[answer[2]["steps"]][1] for answer in results)
    handler(b"another picture", 3)
    assert calls[-1] == 3 and len(calls) == 3  # other content, computed again


def test_the_first_partial_answer_goes_on_a_machine_booted_a_moment_ago(monkeypatch):
    """time.monotonic() counts from boot on Linux: on a fresh machine it is below STREAM_EVERY, and
    a clock started at 0.0 held the first partial answer back."""
    @errors.friendly
    def counts():
        for step in range(3):
            yield {"step": step}

    from types import SimpleNamespace
    monkeypatch.setattr(errors, "time", SimpleNamespace(monotonic=lambda: 0.0))  # booted this instant, and stopped
    assert list(counts()) == [{"step": 0}, {"step": 2}]


def test_answer_keys_differ_past_any_prefix_and_agree_on_equal_inputs():
    long_text, long_bytes = "[0.5, -0.5], " * 2_000, b"\x89PNG" + bytes(50_000)  # 26,000 characters; 50 KB
    key = answers.answer_key
    assert len(long_text) > 10_000
    assert key("decode", ("digits-vae-16", long_text + "[2]"), {}) != key("decode", ("digits-vae-16", long_text + "[-2]"), {})
    assert key("draw", (long_bytes + b"\x01", 4), {}) != key("draw", (long_bytes + b"\x02", 4), {})
    assert key("draw", (bytearray(long_bytes), 4), {}) == key("draw", (long_bytes, 4), {})  # the same bytes
    assert key("decode", ("m", long_text), {}) == key("decode", ("m", long_text), {})
    assert key("decode", ("m", long_text), {}) != key("encode", ("m", long_text), {})  # each handler its own
    assert key("f", (1,), {"seed": 2}) != key("f", (1,), {"seed": 3})


def test_two_long_inputs_that_differ_only_at_their_end_are_computed_apart():
    calls = []

    @answers.remembered
    def handler(text):
        calls.append(text[-3:])
        return {"last": text[-3:]}

    prefix = "x" * 20_000
    assert [handler(prefix + end)["last"] for end in ("[1]", "[2]", "[1]")] == ["[1]", "[2]", "[1]"]
    assert calls == ["[1]", "[2]"]  # the third is the first again: remembered


def blob_request(kind, key, drawing, index=None):
    """What the browser's Sketchpad sends to accept_blobs: its fields, and the file's (name, bytes)."""
    from types import SimpleNamespace
    return SimpleNamespace(data={"type": kind, "id": key, "index": index}, files=[("blob", drawing)])


def test_a_sketchpad_keeps_only_composites_and_a_drawing_stays_readable():
    from gradio.components.image_editor import EditorData
    pad = widgets.Sketchpad()
    pad.accept_blobs(blob_request("layer", "drawing-1", b"\x01", index=10_000_000))
    pad.accept_blobs(blob_request("background", "drawing-1", b"\x02"))
    assert pad.blob_storage == {}  # layers and backgrounds are never used: nothing kept, nothing allocated
    pad.accept_blobs(blob_request("composite", "drawing-1", b"the drawing"))
    pad.accept_blobs(blob_request("composite", "x" * (widgets.Sketchpad.MAX_ID + 1), b"too long a name"))
    assert pad.blob_storage == {"drawing-1": b"the drawing"}
    # The page sends a drawing once and may use it for several events (a slider moved after drawing).
    assert pad.preprocess(EditorData(id="drawing-1")) == pad.preprocess(EditorData(id="drawing-1")) == b"the drawing"
    assert pad.preprocess(EditorData(id="never-sent")) is None
    pad.accept_blobs(blob_request("composite", "big", bytes(widgets.Sketchpad.MAX_DRAWING_BYTES + 1)))
    assert list(pad.blob_storage) == ["drawing-1"]  # too large: not kept (its event asks for a drawing)


def test_a_sketchpad_keeps_at_most_its_bounds_and_frees_the_least_recently_used_first():
    from gradio.components.image_editor import EditorData
    pad, kept = widgets.Sketchpad(), widgets.Sketchpad.KEPT_DRAWINGS
    for k in range(100):
        pad.accept_blobs(blob_request("composite", f"small-{k}", b"%03d" % k))
    assert list(pad.blob_storage) == [f"small-{k}" for k in range(100 - kept, 100)]
    oldest = f"small-{100 - kept}"
    assert pad.preprocess(EditorData(id=oldest)) == b"%03d" % (100 - kept)  # read: now the most recently used
    pad.accept_blobs(blob_request("composite", "small-100", b"100"))
    assert oldest in pad.blob_storage and f"small-{101 - kept}" not in pad.blob_storage
    largest = widgets.Sketchpad.MAX_DRAWING_BYTES
    for k in range(8):
        pad.accept_blobs(blob_request("composite", f"large-{k}", bytes([k]) * largest))
    fit = widgets.Sketchpad.KEPT_BYTES // largest  # 2 of the largest drawings
    assert sum(map(len, pad.blob_storage.values())) <= widgets.Sketchpad.KEPT_BYTES
    assert list(pad.blob_storage) == [f"large-{k}" for k in range(8 - fit, 8)]
