"""Speed and memory of Latent Lab beside naive baselines, all measured in one run.

    python -m benchmarks.run [--quick] [--parts actions serving sd] [--json benchmarks/results/latest.json]

1. App actions on the embedded models at 256 and 512 px: median seconds and peak resident memory,
   beside a naive baseline of plain fp32 diffusers calls (a fresh encode per request, one decode
   per frame, default memory layout), and the compute floor: the decodes an action needs, in
   FLOPs, at this machine's fp32 matmul peak. No fp32 path can beat that floor.
2. Serving: cold start of `python app.py` to the first answered /encode, and the server's resident
   memory before and after 200 mixed requests.
3. The Stable Diffusion VAE architecture (random weights) at 512 px: FLOPs, FLOP/s and the share of
   this machine's matmul peak, naive fp32 beside the app's path, bf16 where it helps, and the
   quality bf16 costs on the embedded VAE.
Prints a table per part, then each target met or missed (and by how much), and writes a JSON file.
`--quick` measures once per path, at 256 px only, and 40 requests: a check that everything runs, not a result.
"""

import argparse
import json
from pathlib import Path
import platform
import statistics
import tempfile
import time

import torch

from benchmarks import sd_vae, serving
from latent_lab import generate, imaging, interpolate, lab, models, vae as vae_ops
from latent_lab.config import EMBEDDED_PIPELINE, EMBEDDED_VAE, EXAMPLES
from latent_lab.models import load_pipeline, load_vae

# Decodes each action needs once the app's cache holds the pictures' posteriors and reconstructions.
DECODES = {"8 samples": 8, "8-frame interpolation": 6}  # the two end frames are the reconstructions
# The targets (2 CPU cores).
APP_TARGETS_AT = 256  # px
SECONDS_TARGETS = {"encode + reconstruct": 0.5, "8 samples": 1.5, "8-frame interpolation": 1.5, "generate, 20 steps": 3.0}
SPEEDUP_TARGETS = {"8 samples": 2.0, "8-frame interpolation": 2.0}
COLD_START_SECONDS = 10.0
MEMORY_GROWTH_PCT = 5.0
SD_DECODE_SPEEDUP = 2.0  # app path against naive fp32, 512 px
SD_BF16_OF_LIMIT = 1.3  # decode time within this factor of FLOPs / bf16 matmul peak (CPUs with native bf16)
BF16_QUALITY_DROP_DB = 0.5
SLOW_BF16_SIDE = 64  # px: where bf16 is emulated (no native support) it is timed on a small picture only


def peak_rss_mib():
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss():
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: restart the VmHWM count
    except OSError:
        pass


def median_seconds(action, repeats, warm_up=True):
    """(median seconds of `repeats` calls, peak resident MiB while they ran)."""
    if warm_up:
        action()  # also fills the app's cache, as a second request would find it
    reset_peak_rss()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), peak_rss_mib()


def check(name, value, limit, unit="", at_least=False, best_possible=None):
    """A target as a JSON-ready dict: met or not, by how much it is missed (%), and the best
    value this machine allows, where known."""
    met = value >= limit if at_least else value <= limit
    missed_by = (limit / value - 1 if at_least else value / limit - 1) * 100
    return {"target": name, "value": value, "limit": limit, "unit": unit, "at_least": at_least,
            "met": met, "missed_by_pct": None if met else missed_by, "best_possible": best_possible}


def not_applicable(name, reason):
    return {"target": name, "met": None, "reason": reason}


def print_targets(targets):
    print("\n== Targets ==")
    for t in targets:
        if t["met"] is None:
            print(f"n/a     {t['target']}: {t['reason']}")
            continue
        sign = "≥" if t["at_least"] else "≤"
        line = f"{'ok' if t['met'] else 'MISSED':7s} {t['target']}: {t['value']:.3g}{t['unit']} (target {sign} {t['limit']}{t['unit']})"
        if not t["met"]:
            line += f", missed by {t['missed_by_pct']:.0f}% (needs to get {1 + t['missed_by_pct'] / 100:.2f}x better)"
        best = t.get("best_possible")
        if best is not None:
            reachable = best >= t["limit"] if t["at_least"] else best <= t["limit"]
            line += f"; the best this machine allows: {best:.3g}{t['unit']}" + ("" if reachable else " (out of reach)")
        print(line)


# The naive baseline for app actions: plain diffusers calls, nothing shared between requests.
@torch.no_grad()
def naive_encode(vae, picture):
    return vae.encode(imaging.to_tensor(picture)).latent_dist


@torch.no_grad()
def naive_reconstruct(vae, picture):
    return vae.decode(naive_encode(vae, picture).mean).sample


@torch.no_grad()
def naive_samples(vae, picture, n=8):
    distribution = naive_encode(vae, picture)
    generator = torch.Generator().manual_seed(0)
    return [vae.decode(distribution.mean + distribution.std * torch.randn(distribution.mean.shape, generator=generator)).sample
            for _ in range(n)]


@torch.no_grad()
def naive_interpolation(vae, picture_a, picture_b, steps=8):
    a, b = naive_encode(vae, picture_a).mean, naive_encode(vae, picture_b).mean
    return [vae.decode(z[None]).sample for z in interpolate.lerp(a[0], b[0], torch.linspace(0, 1, steps))]


def square_photo(name, size, folder):
    """An example photo resized to size x size, as a picture and a PNG file."""
    picture = imaging.fit_to_model(imaging.load_image(EXAMPLES / name).resize((size, size)), size)
    path = folder / f"{Path(name).stem}-{size}.png"
    picture.save(path)
    return picture, path


def app_actions(args, folder, targets):
    """Part 1: every app action, the app's path beside the naive baseline."""
    from diffusers import AutoencoderKL

    vae, source = load_vae(str(EMBEDDED_VAE)), str(EMBEDDED_VAE)
    naive_vae = AutoencoderKL.from_pretrained(source).eval()  # fp32, default memory layout
    peak = sd_vae.matmul_peak(torch.float32, args.matmul_size)
    decode_flops = {size: sd_vae.count_flops(lambda: vae_ops.decode(vae, torch.zeros(1, 4, size // 8, size // 8)))
                    for size in args.sizes}
    print(f"\n== App actions (embedded models, {torch.get_num_threads()} threads, median of {args.action_repeats}) ==")
    print("one decode: " + ", ".join(f"{f / 1e9:.1f} GFLOP at {size} px" for size, f in decode_flops.items())
          + f"; fp32 matmul peak {peak / 1e9:.1f} GFLOP/s")
    print(f"{'action':24s} {'size':>6s} {'app s':>8s} {'naive s':>8s} {'speed-up':>9s} {'floor s':>8s} {'peak MiB':>9s}")
    rows = []

    def measure(action, size, ours, baseline):
        ours_s, ours_mib = median_seconds(ours, args.action_repeats)
        base_s = median_seconds(baseline, args.action_repeats)[0] if baseline else float("nan")
        floor = DECODES[action] * decode_flops[size] / peak if action in DECODES else None
        rows.append({"action": action, "size": size, "seconds": ours_s, "baseline_seconds": base_s,
                     "speedup": base_s / ours_s, "floor_seconds": floor, "peak_rss_mib": ours_mib})
        print(f"{action:24s} {size:4d}px {ours_s:8.3f} {base_s:8.3f} {base_s / ours_s:8.2f}x "
              f"{floor or float('nan'):8.3f} {ours_mib:9.0f}", flush=True)
        if size == APP_TARGETS_AT or action.startswith("generate"):
            if action in SECONDS_TARGETS:
                targets.append(check(f"{action} at {size} px", ours_s, SECONDS_TARGETS[action], " s", best_possible=floor))
            if action in SPEEDUP_TARGETS:  # at best, the naive time over the floor
                targets.append(check(f"{action} at {size} px, speed-up over naive", base_s / ours_s,
                                     SPEEDUP_TARGETS[action], "x", at_least=True, best_possible=base_s / floor))

    for size in args.sizes:
        a, file_a = square_photo("coffee.jpg", size, folder)
        b, file_b = square_photo("chelsea.jpg", size, folder)
        measure("encode + reconstruct", size, lambda: lab.encode_view(vae, source, file_a, size),
                lambda: naive_reconstruct(naive_vae, a))
        measure("8 samples", size, lambda: lab.sample_view(vae, source, file_a, 8, 1.0, 0, size),
                lambda: naive_samples(naive_vae, a))
        measure("8-frame interpolation", size, lambda: lab.interpolate_view(vae, source, file_a, file_b, 8, "lerp", size),
                lambda: naive_interpolation(naive_vae, a, b))
        measure("channels", size, lambda: lab.channels_view(vae, source, file_a, size), lambda: naive_encode(naive_vae, a))

    if (EMBEDDED_PIPELINE / "model_index.json").exists():
        pipe = load_pipeline(str(EMBEDDED_PIPELINE))
        request = generate.Request("a red circle on a blue background", steps=20)
        measure("generate, 20 steps", 128, lambda: generate.generate(pipe, request), None)
    else:
        targets.append(not_applicable("generate, 20 steps", "no embedded text-to-image pipeline in this checkout"))
    return rows


def serving_part(args, folder, targets):
    """Part 2: cold start in a fresh process; resident memory of an in-process server."""
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
    return {"cold_start": cold, "memory": memory}


def sd_vae_part(args, folder, targets):
    """Part 3: the SD VAE architecture, naive fp32 against the app's path, against the matmul peak."""
    side, bf16_native = args.sd_size, sd_vae.native_bf16()
    print(f"\n== Stable Diffusion VAE architecture (random weights), {side} px, median of {args.sd_repeats} ==")
    bf16_matmul_size = args.matmul_size if bf16_native else 512  # emulated bf16: minutes at 2048
    peak = {"fp32": sd_vae.matmul_peak(torch.float32, args.matmul_size),
            "bf16": sd_vae.matmul_peak(torch.bfloat16, bf16_matmul_size, seconds=2.0 if bf16_native else 0.0)}
    print(f"matmul peak: fp32 {peak['fp32'] / 1e9:.1f} GFLOP/s ({args.matmul_size}x{args.matmul_size}), "
          f"bf16 {peak['bf16'] / 1e9:.1f} GFLOP/s ({bf16_matmul_size}x{bf16_matmul_size}); native bf16 on this CPU: "
          f"{'yes' if bf16_native else 'no'} ({torch.backends.cpu.get_cpu_capability()})")
    print(f"{'path':30s} {'step':7s} {'seconds':>8s} {'GFLOP':>8s} {'GFLOP/s':>8s} {'of peak':>8s} {'peak MiB':>9s}")
    rows = []

    def measure(path, step, action, dtype="fp32", repeats=args.sd_repeats, flops=None):
        if flops is None:
            flops = sd_vae.count_flops(action)  # the counting run is also the warm-up
        seconds, mib = median_seconds(action, repeats, warm_up=False)
        row = {"path": path, "step": step, "seconds": seconds, "flops": flops, "flop_per_s": flops / seconds,
               "of_peak": flops / seconds / peak[dtype], "dtype": dtype, "peak_rss_mib": mib}
        rows.append(row)
        print(f"{path:30s} {step:7s} {seconds:8.2f} {flops / 1e9:8.0f} {flops / seconds / 1e9:8.1f} "
              f"{row['of_peak']:7.0%} {mib:9.0f}", flush=True)
        return row

    image = sd_vae.random_picture(side)
    pixels = imaging.to_tensor(image)  # (1, 3, side, side)
    vae = sd_vae.build_sd_vae()
    latents = sd_vae.naive_encode(vae, pixels)  # (1, 4, side/8, side/8)
    naive_encode = measure("naive fp32", "encode", lambda: sd_vae.naive_encode(vae, pixels))
    naive_decode = measure("naive fp32", "decode", lambda: sd_vae.naive_decode(vae, latents))
    naive_picture = sd_vae.naive_decode(vae, latents).clamp(-1, 1)

    vae = models.place(vae)  # the app's layout (channels_last), inference_mode in latent_lab.vae
    scaled = latents * vae.config.scaling_factor
    fast_encode = measure("app (channels_last)", "encode", lambda: sd_vae.app_encode(vae, image))
    fast_decode = measure("app (channels_last)", "decode", lambda: sd_vae.app_decode(vae, scaled))
    difference = (sd_vae.app_decode(vae, scaled) - naive_picture).abs().max().item()
    print(f"app against naive: encode {naive_encode['seconds'] / fast_encode['seconds']:.2f}x, decode "
          f"{naive_decode['seconds'] / fast_decode['seconds']:.2f}x faster; largest pixel difference {difference:.1e} (of 2). "
          f"Naive fp32 decodes at {naive_decode['of_peak']:.0%} of the fp32 matmul peak: in fp32 it can be at most "
          f"{1 / naive_decode['of_peak']:.2f}x faster")
    targets.append(check(f"SD VAE decode at {side} px, speed-up over naive fp32", naive_decode["seconds"] / fast_decode["seconds"],
                         SD_DECODE_SPEEDUP, "x", at_least=True))

    # bf16 autocast: timed at full size where the CPU has bf16 units; elsewhere on a small picture,
    # beside fp32 at that size, because emulated bf16 convolutions are many times slower.
    bf16_side = side if bf16_native else SLOW_BF16_SIDE
    small = sd_vae.app_encode(vae, sd_vae.random_picture(bf16_side))
    fp32_small = fast_decode if bf16_native else measure(f"app fp32 at {bf16_side} px", "decode",
                                                         lambda: sd_vae.app_decode(vae, small), repeats=1)
    bf16_row = measure(f"app bf16 autocast at {bf16_side} px", "decode", lambda: sd_vae.app_decode(vae, small, bf16=True),
                       dtype="bf16", repeats=args.sd_repeats if bf16_native else 1,
                       flops=None if bf16_native else fp32_small["flops"])  # no warm-up: emulated bf16 is slow
    bf16_speedup = fp32_small["seconds"] / bf16_row["seconds"]
    print(f"bf16 autocast against fp32 at {bf16_side} px: {bf16_speedup:.2f}x as fast"
          f"{'' if bf16_native else ' (bf16 emulated in software on this CPU)'}")
    if bf16_native:
        limit_factor = 1 / bf16_row["of_peak"]  # seconds / (FLOPs / bf16 matmul peak)
        targets.append(check(f"SD VAE bf16 decode at {side} px, times the bf16 matmul limit", limit_factor, SD_BF16_OF_LIMIT, "x"))
    else:
        targets.append(not_applicable("SD VAE decode within 1.3x of the bf16 matmul limit",
                                      f"this CPU has no native bf16; emulated bf16 decodes at {bf16_speedup:.2f}x the "
                                      f"speed of fp32, so the app stays in fp32"))

    quality_side = side if bf16_native else SLOW_BF16_SIDE
    photo, _ = square_photo("coffee.jpg", quality_side, folder)
    quality = sd_vae.bf16_quality(load_vae(str(EMBEDDED_VAE)), photo)
    drop = quality["fp32_reconstruction_db"] - quality["bf16_reconstruction_db"]
    print(f"bf16 quality (embedded VAE, coffee.jpg at {quality_side} px): decode {quality['bf16_vs_fp32_db']:.1f} dB from fp32's; "
          f"reconstruction {quality['fp32_reconstruction_db']:.2f} dB in fp32, {quality['bf16_reconstruction_db']:.2f} dB in bf16 "
          f"({drop:+.2f} dB lower)")
    targets.append(check("bf16 quality loss (reconstruction PSNR)", drop, BF16_QUALITY_DROP_DB, " dB"))
    return {"side": side, "native_bf16": bf16_native, "matmul_peak_flop_per_s": peak,
            "matmul_sizes": {"fp32": args.matmul_size, "bf16": bf16_matmul_size},
            "rows": rows, "app_vs_naive_max_difference": difference, "bf16_side": bf16_side, "bf16_speedup": bf16_speedup,
            "bf16_quality": quality | {"side": quality_side, "drop_db": drop}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one timed run per path, 256 px only, 40 requests")
    parser.add_argument("--repeats", type=int, help="timed runs per path (default 5 for app actions and 3 for the SD VAE; 1 with --quick)")
    parser.add_argument("--sizes", type=int, nargs="+", help="app action picture sizes (default 256 512; 256 with --quick)")
    parser.add_argument("--sd-size", type=int, help="SD VAE picture side (default 512; 256 with --quick)")
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--requests", type=int, help="requests in the memory measurement (default 200; 40 with --quick)")
    parser.add_argument("--parts", nargs="+", choices=["actions", "serving", "sd"], default=["actions", "serving", "sd"])
    parser.add_argument("--json", default="benchmarks/results/latest.json")
    args = parser.parse_args()
    args.sizes = args.sizes or ([256] if args.quick else [256, 512])
    args.sd_size = args.sd_size or (256 if args.quick else 512)
    args.requests = args.requests or (40 if args.quick else 200)
    args.action_repeats = args.repeats or (1 if args.quick else 5)
    args.sd_repeats = args.repeats or (1 if args.quick else 3)

    report = {"machine": {"platform": platform.platform(), "threads": torch.get_num_threads(), "torch": torch.__version__,
                          "cpu_capability": torch.backends.cpu.get_cpu_capability()}, "quick": args.quick}
    targets = []
    folder = Path(tempfile.mkdtemp(prefix="latent-lab-bench-"))
    if "actions" in args.parts:
        report["app_actions"] = app_actions(args, folder, targets)
    if "serving" in args.parts:
        report["serving"] = serving_part(args, folder, targets)
    if "sd" in args.parts:
        report["sd_vae"] = sd_vae_part(args, folder, targets)
    print_targets(targets)
    report["targets"] = targets
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {args.json}")


if __name__ == "__main__":
    main()
