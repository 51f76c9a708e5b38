"""The benchmark helpers on tiny models: FLOP counts, the matmul peak, the app's fast path, and
the actions it times (that they do the model work the floors count); the callers benchmark's
request files, working size and medians."""

import itertools
import threading
import json
import os
from types import SimpleNamespace

import pytest
import torch

from benchmarks import actions, callers, precision, report, sd_vae, threads
from latent_lab import cache, imaging, models, sizing, vae as vae_ops
from latent_lab.config import EXAMPLES
from tests.conftest import make_tiny_vae
from tests.test_models import ScriptedClock


def test_flops_of_a_convolution_and_of_cpu_attention():
    pixels, weight = torch.randn(1, 3, 8, 8), torch.randn(4, 3, 3, 3)
    # 2 FLOPs per multiply-add: (8 * 8 outputs) * 4 channels * (3 * 3 * 3) weights each.
    assert sd_vae.count_flops(lambda: torch.nn.functional.conv2d(pixels, weight, padding=1)) == 2 * 64 * 4 * 27
    q = torch.randn(1, 1, 64, 32)  # 64 tokens of 32 dimensions: q k^T and then (.) v
    assert sd_vae.count_flops(lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q)) == 2 * (2 * 64 * 64 * 32)


def test_flops_of_a_tiny_vae_decode_grow_with_the_picture():
    vae = make_tiny_vae()
    small = sd_vae.count_flops(lambda: sd_vae.naive_decode(vae, torch.zeros(1, 4, 2, 2)))
    large = sd_vae.count_flops(lambda: sd_vae.naive_decode(vae, torch.zeros(1, 4, 4, 4)))
    assert small > 0 and large == pytest.approx(4 * small, rel=0.01)  # 4x the pixels: 4x the convolutions


def test_matmul_and_convolution_peaks_are_the_flops_of_the_fastest_call(monkeypatch):
    """On a scripted clock: calls of 0.5, 0.25 and 1.0 seconds, over and over, for 2 seconds after
    a warm-up; the peak is the FLOPs of one call over the fastest, 0.25 s."""
    clock = ScriptedClock()
    monkeypatch.setattr(sd_vae, "time", clock)
    for name in ("matmul", "conv2d"):
        owner = torch if name == "matmul" else torch.nn.functional
        durations = itertools.chain([10.0], itertools.cycle([0.5, 0.25, 1.0]))  # the warm-up first
        monkeypatch.setattr(owner, name, clock.charging(getattr(owner, name), lambda *a, **k: next(durations)))
    assert sd_vae.matmul_peak(torch.float32, size=64, seconds=2.0) == 2 * 64**3 / 0.25
    assert sd_vae.conv_peak(torch.float32, channels=8, side=16, seconds=2.0) == 2 * 16 * 16 * 8 * 8 * 9 / 0.25


def test_the_app_path_decodes_as_the_naive_one():
    naive = make_tiny_vae()
    latents = torch.randn(2, 4, 4, 4, generator=torch.Generator().manual_seed(0))  # unscaled
    expected = sd_vae.naive_decode(naive, latents).clamp(-1, 1)
    placed = models.place(make_tiny_vae())  # same seed: same weights, channels_last
    assert next(p for p in placed.parameters() if p.dim() == 4).is_contiguous(memory_format=torch.channels_last)
    fast = sd_vae.app_decode(placed, latents * placed.config.scaling_factor, bf16=False)
    assert fast.shape == (2, 3, 32, 32)
    assert (fast - expected).abs().max() < 1e-3
    bf16 = sd_vae.app_decode(placed, latents * placed.config.scaling_factor, bf16=True)  # emulated where no bf16 units
    assert bf16.dtype == torch.float32 and not torch.equal(bf16, fast)
    assert vae_ops.psnr(fast, bf16) > 40  # measured 46.2 dB on random weights (the trained VAE: 51-58 dB)


def test_forced_precision_sets_and_restores_the_setting(monkeypatch):
    monkeypatch.setenv("LATENT_LAB_BF16", "auto")
    with sd_vae.forced_precision(True):
        assert models.cpu_bf16().use
    with sd_vae.forced_precision(False):
        assert not models.cpu_bf16().use
    assert os.environ["LATENT_LAB_BF16"] == "auto"
    monkeypatch.delenv("LATENT_LAB_BF16")
    with sd_vae.forced_precision(True):
        pass
    assert "LATENT_LAB_BF16" not in os.environ


def test_interleaved_timing_calls_each_path_in_turn():
    calls = []
    seconds = precision.interleaved_seconds({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 3)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b"]  # warm-up, then the order reversed every other repeat
    assert set(seconds) == {"a", "b"} and len(seconds["a"]["all"]) == 3
    assert seconds["a"]["best"] <= seconds["a"]["median"]


class Counting:
    """Counts the pictures a VAE encodes and decodes."""

    def __init__(self, vae):
        self.vae, self.decoded, self.encoded = vae, 0, 0
        encode, decode = vae.encode, vae.decode
        vae.encode = lambda x, *args, **kwargs: self._count("encoded", x) or encode(x, *args, **kwargs)
        vae.decode = lambda z, *args, **kwargs: self._count("decoded", z) or decode(z, *args, **kwargs)

    def _count(self, name, batch):
        setattr(self, name, getattr(self, name) + batch.shape[0])

    def work(self, action):
        self.decoded = self.encoded = 0
        action()
        return self.decoded, self.encoded


def test_the_timed_actions_do_the_model_work_the_floors_count():
    app_vae, plain_vae = Counting(models.place(make_tiny_vae(seed=1))), Counting(make_tiny_vae(seed=1))
    ours = actions.app_actions_at(app_vae.vae, "tiny", 64)
    picture_a = cache.prepare(app_vae.vae, EXAMPLES / actions.PHOTO_A, 64)  # 64 x 40 px
    picture_b = cache.prepare(app_vae.vae, EXAMPLES / actions.PHOTO_B, 64, size=picture_a.size)
    plain = actions.plain_actions(plain_vae.vae, picture_a, picture_b)
    assert set(ours) == set(plain) == set(actions.MODEL_WORK)
    for action, work in actions.MODEL_WORK.items():
        ours[action]()  # the first click fills the app's cache; the timed ones find it full
        assert app_vae.work(ours[action]) == work, action
        assert plain_vae.work(plain[action]) == work, action


def test_the_precision_helpers_run_on_a_tiny_vae():
    plain, placed = make_tiny_vae(), models.place(make_tiny_vae())
    pictures = precision.held_out_pictures(64)
    assert [name for name, _ in pictures][:4] == list(precision.PHOTOS) and len(pictures) == 10
    quality = precision.decode_quality(placed, pictures[:2])
    assert [row["picture"] for row in quality] == list(precision.PHOTOS[:2])
    assert all(row["drop_db"] == pytest.approx(row["fp32_reconstruction_db"] - row["bf16_reconstruction_db"]) for row in quality)
    encoder = precision.encoder_paths(plain, placed, pictures[0][1], repeats=1)
    assert encoder[0]["path"] == "fp32, default layout (plain)" and encoder[0]["mean_max_error"] == 0
    assert all(row["mean_max_error"] < 1e-4 for row in encoder if row["path"].startswith("fp32"))  # layout changes nothing
    ticks = itertools.count()  # a clock that moves one second each time it is read: every call takes 1 s
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(precision, "time", SimpleNamespace(perf_counter=lambda: float(next(ticks))))
        batches = precision.decode_batches(placed, (64, 40), repeats=3, frames=8)
    assert batches == {size: 1 / 8 for size in precision.BATCH_SIZES}  # a call's median seconds over its 8 pictures


def test_the_sd_config_is_stable_diffusions_vae():
    config = json.loads(sd_vae.CONFIG.read_text())
    assert config["block_out_channels"] == [128, 256, 512, 512] and config["layers_per_block"] == 2
    assert config["latent_channels"] == 4 and config["scaling_factor"] == 0.18215


def test_targets_say_by_how_much_they_are_missed():
    assert report.check("decode", 0.6, 0.5, " s")["missed_by_pct"] == pytest.approx(20)
    assert report.check("speed-up", 1.6, 2.0, "x", at_least=True)["missed_by_pct"] == pytest.approx(25)
    assert report.check("speed-up", 2.5, 2.0, "x", at_least=True)["met"] is True


def test_targets_say_when_this_machine_cannot_reach_them(capsys):
    report.print_targets([report.check("8 samples", 3.0, 1.5, " s", best_possible=1.9),
                       report.check("speed-up", 1.2, 2.0, "x", at_least=True, best_possible=2.5)])
    lines = capsys.readouterr().out.strip().splitlines()[1:]
    assert lines[0].endswith("the best this machine allows: 1.9 s (out of reach)")
    assert lines[1].endswith("the best this machine allows: 2.5x")


def test_in_turn_returns_what_each_call_returned_in_call_order():
    calls = itertools.count()
    results = report.in_turn({"a": lambda: ("a", next(calls)), "b": lambda: ("b", next(calls))}, 3)
    # calls 0 and 1 warm up; then a b, b a, a b
    assert results == {"a": [("a", 2), ("a", 5), ("a", 6)], "b": [("b", 3), ("b", 4), ("b", 7)]}
    assert report.in_turn({"a": lambda: 1}, 2, warm_up=False) == {"a": [1, 1]}


def test_the_working_size_is_read_from_the_page_header():
    def config(line):
        return {"components": [{"props": {"value": "# Latent Lab"}}, {"props": {"value": 3}}, {"props": {"value": line}}]}

    embedded = "Default VAE: **latent-lab-vae**, 3.8 M parameters. Pictures are worked at 512 px, the embedded VAE's size."
    assert callers.working_size(config(embedded)) == (512, "512 px, the embedded VAE's size")
    measured = ("Default VAE: **sd**, 83.7 M parameters. Pictures are worked at 256 px: one decode takes about 0.9 s "
                "at this size here (set LATENT_LAB_MAX_SIDE to choose another).")
    assert callers.working_size(config(measured)) == (
        256, "256 px: one decode takes about 0.9 s at this size here (set LATENT_LAB_MAX_SIDE to choose another)")
    with pytest.raises(RuntimeError):
        callers.working_size(config("no size here"))
    for per_pixel in (sizing.DECODE_SECONDS / 512**2 / 2, sizing.DECODE_SECONDS / 256**2):  # one size, two sizes
        chosen = sizing.choose_side(per_pixel)
        line = f"Default VAE: **sd**. Pictures are worked at {chosen.reason}."
        assert callers.working_size(config(line)) == (chosen.side, chosen.reason)
        assert callers.three_ways_size(chosen.reason, chosen.side) == chosen.three_ways_side


def test_request_files_are_new_answers_on_the_same_pixels_or_new_pictures(tmp_path):
    vae = make_tiny_vae()
    picture_a = cache.prepare(vae, EXAMPLES / actions.PHOTO_A, 64)  # 64 x 40 px
    picture_b = cache.prepare(vae, EXAMPLES / actions.PHOTO_B, 64, size=picture_a.size)
    requests = callers.Requests(picture_a, picture_b, tmp_path)
    interpolate, encode = callers.VIEWS[2], callers.VIEWS[0]
    first, second = requests.files(interpolate), requests.files(interpolate)
    assert [path.name for path in first + second] == ["a-0.png", "b-0.png", "a-1.png", "b-1.png"]
    assert first[0].read_bytes() != second[0].read_bytes()  # new to the app's memory of answers ...
    for path, picture in zip(first + second, [picture_a, picture_b] * 2):  # ... the same pixels, fitted as the app fits
        assert list(cache.prepare(vae, path, 64, size=picture.size if path.name[0] == "b" else None).getdata()) == \
            list(picture.getdata())
    [new], [newer] = requests.files(encode), requests.files(encode)
    pixels = [list(imaging.load_image(path).getdata()) for path in (new, newer)]
    original = list(picture_a.getdata())
    assert pixels[0][1:] == pixels[1][1:] == original[1:]  # only the first pixel changes ...
    assert len({tuple(pixels[0][0]), tuple(pixels[1][0]), tuple(original[0])}) == 3  # ... differently each time
    assert {callers.nudged(picture_a, number).getpixel((0, 0)) for number in range(600)}.isdisjoint({original[0]})


def test_the_callers_rows_are_the_timed_actions_and_their_targets():
    assert [view.name for view in callers.VIEWS] == list(actions.MODEL_WORK)
    assert callers.client_limit("8 samples", 2.0) == pytest.approx(1.25)  # 0.5x plain + 0.25 s
    assert callers.client_limit(callers.GENERATE.name, 0.4) == pytest.approx(0.65)  # plain + 0.25 s
    results = {"page": [{"seconds": 3.0, "first": 0.5}, {"seconds": 1.0, "first": 0.1}, {"seconds": 2.0, "first": 0.3}],
               "plain": [{"seconds": 4.0}]}
    assert callers.medians(results) == {"page": {"seconds": 2.0, "first": 0.3}, "plain": {"seconds": 4.0}}


def test_the_threads_benchmark_runs_each_stage_where_it_says():
    """The long-lived worker runs every call on one thread of its own; a new thread is new each time."""
    worker, seen = threads.Worker(), []
    on_worker = {worker.run(threading.get_ident) for _ in range(3)}
    for _ in range(2):
        threads.on_new_thread(lambda: seen.append(threading.get_ident()))
    assert len(on_worker) == 1 and threading.get_ident() not in on_worker
    assert len(seen) == 2 and not on_worker & set(seen)
