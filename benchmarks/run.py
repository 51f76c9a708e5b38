"""Speed and memory of Latent Lab beside plain fp32 diffusers calls, all measured in one run.

    python -m benchmarks.run [--quick] [--parts precision actions serving sd] [--json benchmarks/results/latest.json]

It first prints the decoder's precision on this CPU (bf16 or fp32, and why: latent_lab.models.cpu_bf16).
1. Precision, on the embedded VAE: bf16 decodes against fp32 ones on held-out pictures (PSNR), the
   encoder in each precision and memory layout (seconds, and how far μ and σ move), and the seconds
   per picture of each decode batch size.
2. App actions on the embedded models, photos fitted to 256 and 512 px as the app fits an upload:
   median seconds and peak resident memory of each click, beside plain fp32 diffusers calls that do
   the same model work (default memory layout, one picture per call), timed in turn within every
   repeat; and the compute floor: the FLOPs of the action's encodes and decodes at this machine's
   fp32 compute peak (no fp32 path can beat it) and at the peak of the app's decoder precision, a
   peak being the faster of a large matmul and a decoder-like 3x3 convolution.
3. Serving: cold start of `python app.py` to the first answered /encode, the server's resident
   memory before and after 200 mixed requests, and a class of 30 clients pressing /sample at once
   (the same example, then 30 different requests).
4. The Stable Diffusion VAE architecture (random weights) at 512 px: FLOPs, FLOP/s and the share of
   this machine's compute peak, naive fp32 beside the app's path in fp32 and in bf16.
Prints a table per part, then each target met or missed (and by how much), and writes a JSON file.
Torch uses LATENT_LAB_THREADS threads, as the app does; on a machine shared with other work,
LATENT_LAB_THREADS=1 gives steadier numbers than two threads that wait for each other.
`--quick` measures once per path, at 256 px only, and 40 requests: a check that everything runs, not a result.
Each view through gradio_client and in chromium, beside in-process and plain calls: `python -m benchmarks.callers`.
"""

import argparse
import os
from pathlib import Path
import platform
import tempfile
import threading

import torch

from benchmarks import precision, sd_vae, serving
from benchmarks.report import check, finish, median_seconds, not_applicable, peak_rss_mib, reset_peak_rss
from benchmarks.actions import (MODEL_WORK, PHOTO_A, PHOTO_B, app_actions_at, app_first_pictures_at, generate_calls,
                                plain_actions)
from latent_lab import cache, imaging, models, vae as vae_ops
from latent_lab.config import EMBEDDED_PIPELINE, EMBEDDED_VAE, EXAMPLES, Settings
from latent_lab.models import load_pipeline, load_vae

# The targets (2 CPU cores).
APP_TARGETS_AT = 256  # px
SECONDS_TARGETS = {"encode a new picture": 0.5, "8 samples": 1.5, "8-frame interpolation": 1.5, "generate, 20 steps": 3.0}
SPEEDUP_TARGETS = {"8 samples": 2.0, "8-frame interpolation": 2.0}
CLICK_AT, CLICK_SECONDS = 512, 1.0  # "every click in about a second" at the app's default size
# At the app's default size (CLICK_AT), against plain fp32 calls in the same run:
PLAIN_RATIO_TARGETS = {"8 samples": 0.5, "8-frame interpolation": 0.5, "traversal, 7 frames": 0.5,
                       "three ways, 8 frames": 0.5}  # app seconds / plain seconds
FIRST_PICTURE_RATIO = 0.2  # first picture of a multi-picture view / plain seconds of the whole view
PLAIN_PLUS_SECONDS = {"encode a new picture": 0.25, "generate, 20 steps": 0.25}  # app ≤ plain + this
COLD_START_SECONDS = 10.0
CLASS_SIZE, SAME_EXAMPLE_FACTOR = 30, 4.0  # a class pressing the same example: all answered within 4x one request
MEMORY_GROWTH_PCT = 5.0
BF16_MIN_PSNR_DB = 50.0  # a bf16 decode is this close to the fp32 one ...
BF16_QUALITY_DROP_DB = 0.5  # ... or costs at most this much PSNR against the picture


def precision_line():
    """Which path the VAE takes on this CPU, and why (printed first, stored in the JSON)."""
    decision = models.cpu_bf16()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"VAE precision, decoder and encoder: {'bf16' if decision.use else 'fp32'} ({decision.reason}). "
          f"{torch.get_num_threads()} torch threads, load average {load:.1f} on {os.cpu_count()} CPUs")
    return {"bf16": decision.use, "reason": decision.reason, "load_average": load}


def square_photo(name, size, folder):
    """An example photo resized to size x size, as a picture and a PNG file."""
    picture = imaging.fit_to_model(imaging.load_image(EXAMPLES / name).resize((size, size)), size)
    path = folder / f"{Path(name).stem}-{size}.png"
    picture.save(path)
    return picture, path


def flops_of(vae, picture):
    """(FLOPs of one decode, FLOPs of one encode) of a picture of this size."""
    cell = vae_ops.scale_factor(vae)
    latents = torch.zeros(1, vae.config.latent_channels, picture.height // cell, picture.width // cell)
    return (sd_vae.count_flops(lambda: vae_ops.decode(vae, latents)),
            sd_vae.count_flops(lambda: vae_ops.encode(vae, picture)))


def precision_part(args, targets):
    """Part 1: what bf16 costs and gains on the embedded VAE; the encoder's paths; decode batches."""
    from diffusers import AutoencoderKL

    vae = load_vae(str(EMBEDDED_VAE))
    decision = models.cpu_bf16()
    side = max(args.sizes) if sd_vae.native_bf16() else sd_vae.SLOW_BF16_SIDE  # emulated bf16: small pictures only
    print(f"\n== Precision (embedded VAE, held-out pictures fitted to {side} px) ==")
    pictures = precision.held_out_pictures(side)
    quality = precision.decode_quality(vae, pictures)
    print(f"{'picture':28s} {'size':>9s} {'bf16 vs fp32':>13s} {'fp32 PSNR':>10s} {'bf16 PSNR':>10s} {'drop':>7s}")
    for row in quality:
        print(f"{row['picture']:28s} {row['size'][0]:4d}x{row['size'][1]:<4d} {row['bf16_vs_fp32_db']:10.1f} dB "
              f"{row['fp32_reconstruction_db']:7.2f} dB {row['bf16_reconstruction_db']:7.2f} dB {row['drop_db']:+7.3f}")
    good = [row for row in quality if row["bf16_vs_fp32_db"] >= BF16_MIN_PSNR_DB or row["drop_db"] <= BF16_QUALITY_DROP_DB]
    worst_close, worst_drop = min(r["bf16_vs_fp32_db"] for r in quality), max(r["drop_db"] for r in quality)
    targets.append(check(f"held-out pictures whose bf16 decode is ≥ {BF16_MIN_PSNR_DB:g} dB from fp32's or costs ≤ "
                         f"{BF16_QUALITY_DROP_DB} dB (worst: {worst_close:.1f} dB, {worst_drop:+.3f} dB)",
                         len(good), len(quality), at_least=True))

    tolerance = precision.encoder_tolerance(vae, pictures)
    print(f"\nbf16 encoder against fp32 ({vae_ops.BF16_MU_SIGMAS:g} σ and {vae_ops.BF16_SIGMA_SHARE:.0%} allowed)")
    print(f"{'picture':28s} {'size':>9s} {'|Δμ|/σ median':>14s} {'worst':>7s} {'|Δσ|/σ worst':>13s}")
    for row in tolerance:
        print(f"{row['picture']:28s} {row['size'][0]:4d}x{row['size'][1]:<4d} {row['mu_median_sigmas']:14.3f} "
              f"{row['mu_worst_sigmas']:7.3f} {row['sigma_worst_relative']:12.1%}")
    within = [row for row in tolerance if row["mu_worst_sigmas"] <= vae_ops.BF16_MU_SIGMAS
              and row["sigma_worst_relative"] <= vae_ops.BF16_SIGMA_SHARE]
    targets.append(check(f"held-out pictures whose bf16 μ is within {vae_ops.BF16_MU_SIGMAS:g} σ of fp32's in every cell "
                         f"and σ within {vae_ops.BF16_SIGMA_SHARE:.0%}", len(within), len(tolerance), at_least=True))

    plain_vae = AutoencoderKL.from_pretrained(str(EMBEDDED_VAE)).eval().requires_grad_(False)
    name, picture = next((n, p) for n, p in pictures if n == PHOTO_A)
    encoder = precision.encoder_paths(plain_vae, vae, picture, args.action_repeats)
    print(f"\nencoder on {name} ({picture.width}x{picture.height}), median of {args.action_repeats}, interleaved; "
          f"μ and σ against plain fp32 (μ in scaled units)")
    print(f"{'path':34s} {'seconds':>8s} {'max |Δμ|':>9s} {'/ mean σ':>9s} {'max |Δσ|/σ':>11s}")
    for row in encoder:
        print(f"{row['path']:34s} {row['seconds']:8.3f} {row['mean_max_error']:9.2e} {row['mean_error_over_sigma']:9.2f} "
              f"{row['std_max_relative_error']:10.1%}")

    batches = {}
    sizes = sorted({(128, 128)} | {cache.prepare(vae, EXAMPLES / PHOTO_A, side).size for side in args.sizes})
    print(f"\ndecode of 8 latents in batches, {'bf16' if decision.use else 'fp32'}: seconds per picture "
          f"(median of {args.action_repeats}, interleaved); vae.DECODE_PIXELS = {vae_ops.DECODE_PIXELS} picks")
    print(f"{'picture':>9s} " + " ".join(f"{'batch ' + str(b):>9s}" for b in precision.BATCH_SIZES) + f" {'picked':>7s}")
    for size in sizes:
        per_picture = precision.decode_batches(vae, size, args.action_repeats)
        picked = max(1, vae_ops.DECODE_PIXELS // (size[0] * size[1]))
        batches[f"{size[0]}x{size[1]}"] = {"per_picture_seconds": per_picture, "picked": picked}
        print(f"{size[0]:4d}x{size[1]:<4d} " + " ".join(f"{per_picture[b]:9.3f}" for b in precision.BATCH_SIZES)
              + f" {picked:7d}")
    return {"bf16": decision.use, "reason": decision.reason, "quality": quality, "encoder": encoder,
            "decode_batches": batches}


def app_actions(args, targets):
    """Part 2: every click, the app's path beside plain fp32 calls doing the same model work."""
    from diffusers import AutoencoderKL

    vae, source = load_vae(str(EMBEDDED_VAE)), str(EMBEDDED_VAE)
    plain_vae = AutoencoderKL.from_pretrained(source).eval().requires_grad_(False)  # fp32, default memory layout
    decision = models.cpu_bf16()
    rates = sd_vae.compute_rates(args, bf16=decision.use)
    peak = {"fp32": max(rates["fp32"]), "app": max(rates["bf16" if decision.use else "fp32"])}
    print(f"\n== App actions (embedded models, photos fitted to each size, median of {args.action_repeats}, "
          f"app and plain calls in turn) ==")
    print(f"decoder {'bf16' if decision.use else 'fp32'}, encoder fp32; compute peak (matmul, 3x3 convolution) "
          + ", ".join(f"{kind} ({matmul / 1e9:.0f}, {conv / 1e9:.0f}) GFLOP/s" for kind, (matmul, conv) in rates.items())
          + "; floors: the action's encodes and decodes at the fp32 peak, and at the app's precision")
    print(f"{'action':24s} {'picture':>9s} {'app s':>8s} {'plain s':>8s} {'speed-up':>9s} {'fp32 floor':>10s} "
          f"{'app floor':>9s} {'peak MiB':>9s}")
    rows = []

    def report(action, size, ours, plain=None, floors=(None, None)):
        base_s = plain["median"] if plain else float("nan")
        fp32_floor, app_floor = floors
        rows.append({"action": action, "size": size, "seconds": ours["median"], "best_seconds": ours["best"],
                     "plain_seconds": base_s, "speedup": base_s / ours["median"], "floor_seconds": fp32_floor,
                     "app_floor_seconds": app_floor, "peak_rss_mib": ours["peak_rss_mib"]})
        print(f"{action:24s} {size:>9s} {ours['median']:8.3f} {base_s:8.3f} {base_s / ours['median']:8.2f}x "
              f"{fp32_floor or float('nan'):10.3f} {app_floor or float('nan'):9.3f} {ours['peak_rss_mib']:9.0f}", flush=True)
        return base_s / ours["median"]

    for max_side in args.sizes:
        picture_a = cache.prepare(vae, EXAMPLES / PHOTO_A, max_side)
        picture_b = cache.prepare(vae, EXAMPLES / PHOTO_B, max_side, size=picture_a.size)
        label = f"{picture_a.width}x{picture_a.height}"
        decode_flops, encode_flops = flops_of(vae, picture_a)
        ours, plain = app_actions_at(vae, source, max_side), plain_actions(plain_vae, picture_a, picture_b)
        first_pictures = app_first_pictures_at(vae, source, max_side)
        for action, (decodes, encodes) in MODEL_WORK.items():
            seconds = _app_and_plain(ours[action], plain[action], args.action_repeats)
            floors = ((decodes * decode_flops + encodes * encode_flops) / peak["fp32"],
                      decodes * decode_flops / peak["app"] + encodes * encode_flops / peak["fp32"])
            speedup = report(action, label, seconds["app"], seconds["plain"], floors)
            if max_side == APP_TARGETS_AT:
                if action in SECONDS_TARGETS:
                    targets.append(check(f"{action} at {max_side} px", seconds["app"]["median"], SECONDS_TARGETS[action],
                                         " s", best_possible=floors[1]))
                if action in SPEEDUP_TARGETS:  # at best, the plain time over the app's floor
                    targets.append(check(f"{action} at {max_side} px, speed-up over plain fp32", speedup,
                                         SPEEDUP_TARGETS[action], "x", at_least=True,
                                         best_possible=seconds["plain"]["median"] / floors[1]))
            if max_side == CLICK_AT:
                targets += _default_size_targets(action, max_side, seconds, floors, first_pictures)

    if (EMBEDDED_PIPELINE / "model_index.json").exists():
        from diffusers import DiffusionPipeline

        pipe = load_pipeline(str(EMBEDDED_PIPELINE))
        plain_pipe = DiffusionPipeline.from_pretrained(str(EMBEDDED_PIPELINE), torch_dtype=torch.float32)
        app, plain = generate_calls(pipe, plain_pipe)
        seconds = _app_and_plain(app, plain, args.action_repeats)
        action = "generate, 20 steps"
        report(action, "128x128", seconds["app"], seconds["plain"])
        in_a_worker, _ = median_seconds(lambda: _in_a_thread(plain), args.action_repeats)
        print(f"{'':24s} the same plain call made from a worker thread, as a server makes it: {in_a_worker:.3f} s",
              flush=True)
        targets.append(check(f"{action} at 128 px", seconds["app"]["median"], SECONDS_TARGETS[action], " s"))
        targets.append(check(f"{action}, seconds over a plain pipe() call with the same scheduler",
                             seconds["app"]["median"] - seconds["plain"]["median"], PLAIN_PLUS_SECONDS[action], " s"))
    else:
        targets.append(not_applicable("generate, 20 steps", "no embedded text-to-image pipeline in this checkout"))
    return rows


def _default_size_targets(action, side, seconds, floors, first_pictures):
    """The targets at the app's default size: seconds per click, the share of the plain calls' time,
    the seconds over them (encode), and how soon the first picture shows."""
    app_s, plain_s = seconds["app"]["median"], seconds["plain"]["median"]
    targets = [check(f"{action} at {side} px", app_s, CLICK_SECONDS, " s", best_possible=floors[1])]
    if action in PLAIN_RATIO_TARGETS:
        targets.append(check(f"{action} at {side} px, app / plain fp32 seconds", app_s / plain_s,
                             PLAIN_RATIO_TARGETS[action], "x", best_possible=floors[1] / plain_s))
    if action in PLAIN_PLUS_SECONDS:
        targets.append(check(f"{action} at {side} px, seconds over plain fp32", app_s - plain_s,
                             PLAIN_PLUS_SECONDS[action], " s"))
    if action in first_pictures:
        first_s, _ = median_seconds(first_pictures[action], 3)
        print(f"{'':24s} first picture on screen after {first_s:.3f} s: {first_s / plain_s:.2f} of the plain "
              f"seconds of the whole view", flush=True)
        targets.append(check(f"{action} at {side} px, first picture / plain seconds of the whole view",
                             first_s / plain_s, FIRST_PICTURE_RATIO, "x"))
    return targets


def _in_a_thread(action):
    worker = threading.Thread(target=action)
    worker.start()
    worker.join()


def _app_and_plain(app, plain, repeats):
    """Both warmed up once (the app's cache filled, as a second click finds it), then called in
    turn `repeats` times; the app's peak resident memory is the highest over its calls."""
    app(), plain()
    peaks = []

    def app_with_memory():
        reset_peak_rss()
        app()
        peaks.append(peak_rss_mib())

    seconds = precision.interleaved_seconds({"app": app_with_memory, "plain": plain}, repeats, warm_up=False)
    seconds["app"]["peak_rss_mib"] = max(peaks)
    return seconds


def serving_part(args, folder, targets):
    """Part 3: cold start in a fresh process; resident memory of an in-process server."""
    print("\n== Serving ==")
    _, first_file = square_photo("coffee.jpg", APP_TARGETS_AT, folder)
    cold = serving.cold_start(first_file) | {"import_seconds": serving.import_seconds()}
    print(f"cold start: `python app.py` to the first answered /encode ({APP_TARGETS_AT} px): "
          f"{cold['first_encode_seconds']:.1f} s (port open after {cold['listening_seconds']:.1f} s); "
          f"importing gradio and diffusers alone takes {cold['import_seconds']:.1f} s", flush=True)
    targets.append(check("cold start to first /encode", cold["first_encode_seconds"], COLD_START_SECONDS, " s",
                         best_possible=cold["import_seconds"]))

    small = [square_photo(name, 64, folder)[1] for name in ("coffee.jpg", "chelsea.jpg", "astronaut.jpg", "rocket.jpg")]
    memory = serving.memory_growth(small, args.requests)
    print(f"memory over {memory['requests']} mixed requests (64 px): {memory['rss_before_mib']:.0f} MiB -> "
          f"{memory['rss_halfway_mib']:.0f} MiB halfway -> {memory['rss_after_mib']:.0f} MiB ({memory['growth_pct']:+.1f}%), "
          f"{memory['seconds_per_request']:.3f} s per request", flush=True)
    targets.append(check(f"memory growth over {memory['requests']} requests", memory["growth_pct"], MEMORY_GROWTH_PCT, "%"))
    _, photo = square_photo("chelsea.jpg", CLICK_AT, folder)
    room = serving.a_class_at_once(photo, CLASS_SIZE)
    print(f"a class of {room['clients']} at {CLICK_AT} px, /sample with 8 samples: one request alone "
          f"{room['one_request_seconds']:.2f} s; all pressing the same example {room['same_seconds']:.2f} s "
          f"({room['same_whole']} whole answers); {room['clients']} different requests {room['different_seconds']:.1f} s "
          f"({room['different_whole']} whole answers; the furthest place a waiting client was told: "
          f"{room['furthest_queue_place']})", flush=True)
    targets.append(check(f"{CLASS_SIZE} clients pressing the same example, last answer / one request's seconds",
                         room["same_seconds"] / room["one_request_seconds"], SAME_EXAMPLE_FACTOR, "x"))
    targets.append(check(f"{CLASS_SIZE} clients pressing the same example, whole answers", room["same_whole"],
                         CLASS_SIZE, at_least=True))
    targets.append(check(f"{CLASS_SIZE} different requests at once, whole answers", room["different_whole"],
                         CLASS_SIZE, at_least=True))
    return {"cold_start": cold, "memory": memory, "class": room}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one timed run per path, 256 px only, 40 requests")
    parser.add_argument("--repeats", type=int, help="timed runs per path (default 5 for precision and app actions and 3 "
                                                    "for the SD VAE; 1 with --quick)")
    parser.add_argument("--sizes", type=int, nargs="+", help="longest side the photos are fitted to (default 256 512; "
                                                             "256 with --quick)")
    parser.add_argument("--sd-size", type=int, help="SD VAE picture side (default 512; 256 with --quick)")
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--requests", type=int, help="requests in the memory measurement (default 200; 40 with --quick)")
    parser.add_argument("--parts", nargs="+", choices=["precision", "actions", "serving", "sd"],
                        default=["precision", "actions", "serving", "sd"])
    parser.add_argument("--json", default="benchmarks/results/latest.json")
    args = parser.parse_args()
    args.sizes = args.sizes or ([256] if args.quick else [256, 512])
    args.sd_size = args.sd_size or (256 if args.quick else 512)
    args.requests = args.requests or (40 if args.quick else 200)
    args.action_repeats = args.repeats or (1 if args.quick else 5)
    args.sd_repeats = args.repeats or (1 if args.quick else 3)

    models.set_threads(Settings.from_env().threads)  # LATENT_LAB_THREADS, as the app reads it
    report = {"machine": {"platform": platform.platform(), "threads": torch.get_num_threads(), "torch": torch.__version__,
                          "cpu_capability": torch.backends.cpu.get_cpu_capability()}, "quick": args.quick}
    report["precision"] = precision_line()
    targets = []
    folder = Path(tempfile.mkdtemp(prefix="latent-lab-bench-"))
    if "precision" in args.parts:
        report["precision"] |= precision_part(args, targets)
    if "actions" in args.parts:
        report["app_actions"] = app_actions(args, targets)
    if "serving" in args.parts:
        report["serving"] = serving_part(args, folder, targets)
    if "sd" in args.parts:
        report["sd_vae"] = sd_vae.part(args, targets)
    finish(report, targets, args.json)


if __name__ == "__main__":
    main()
