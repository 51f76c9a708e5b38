"""Time each app action on the embedded models beside a naive baseline, in one run.

    python -m benchmarks.run [--repeats 5] [--sizes 256 512] [--json benchmarks/results/latest.json]

The app's path batches decodes and caches posteriors by picture content; the baseline makes
plain fp32 diffusers calls: it encodes again for every request and decodes one latent at a time.
Prints a table of median seconds, the speed-up, and the peak resident memory of each action.
"""

import argparse
import json
from pathlib import Path
import statistics
import tempfile
import time

import torch

from latent_lab import generate, imaging, interpolate, lab, vae as vae_ops
from latent_lab.config import EMBEDDED_PIPELINE, EMBEDDED_VAE, EXAMPLES
from latent_lab.models import load_pipeline, load_vae


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


def median_seconds(action, repeats):
    action()  # warm-up (and fills the app's cache, as a second request would find it)
    reset_peak_rss()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), peak_rss_mib()


# The naive baseline: plain diffusers calls, nothing shared between requests.
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--json", default="benchmarks/results/latest.json")
    args = parser.parse_args()
    vae = load_vae(str(EMBEDDED_VAE))
    photo_a, photo_b = (imaging.load_image(EXAMPLES / name) for name in ("coffee.jpg", "chelsea.jpg"))
    rows = []

    def measure(action, size, ours, baseline):
        ours_s, ours_mib = median_seconds(ours, args.repeats)
        base_s, base_mib = median_seconds(baseline, args.repeats) if baseline else (float("nan"), float("nan"))
        rows.append({"action": action, "size": size, "seconds": ours_s, "baseline_seconds": base_s,
                     "speedup": base_s / ours_s, "peak_rss_mib": ours_mib})
        print(f"{action:28s} {size:4d}px  {ours_s:7.3f} s   baseline {base_s:7.3f} s   "
              f"x{base_s / ours_s:5.2f}   peak {ours_mib:6.0f} MiB", flush=True)

    folder = Path(tempfile.mkdtemp(prefix="latent-lab-bench-"))
    for size in args.sizes:
        a = imaging.fit_to_model(photo_a.resize((size, size)), size)
        b = imaging.fit_to_model(photo_b.resize((size, size)), size)
        files = {}
        for name, picture in (("a", a), ("b", b)):
            files[name] = folder / f"{name}-{size}.png"
            picture.save(files[name])
        source = str(EMBEDDED_VAE)
        measure("encode + reconstruct", size, lambda: lab.encode_view(vae, files["a"], source, size),
                lambda: naive_reconstruct(vae, a))
        measure("8 samples", size, lambda: lab.sample_view(vae, files["a"], source, 8, 1.0, 0, size),
                lambda: naive_samples(vae, a))
        measure("8-frame interpolation", size, lambda: lab.interpolate_view(vae, files["a"], files["b"], source, 8, "lerp", size),
                lambda: naive_interpolation(vae, a, b))
        measure("channels", size, lambda: lab.channels_view(vae, files["a"], source, size), lambda: naive_encode(vae, a))

    if (EMBEDDED_PIPELINE / "model_index.json").exists():
        pipe = load_pipeline(str(EMBEDDED_PIPELINE))
        request = generate.Request("a red circle on a blue background", steps=20)
        measure("generate, 20 steps", 128, lambda: generate.generate(pipe, request), None)

    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"threads": torch.get_num_threads(), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
