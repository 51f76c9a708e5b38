"""One benchmark, three ways of calling: each photo view timed in-process, through gradio_client
and in chromium, beside plain fp32 diffusers calls doing the same model work, in the same run.

    python -m benchmarks.callers [--quick] [--repeats 3] [--models embedded sd] [--clients 30]

For the embedded VAE and for the Stable Diffusion VAE architecture (benchmarks/sd-vae-config.json,
random weights, saved to a temporary diffusers folder), it starts `python app.py` with
LATENT_LAB_VAE pointing at the model, reads the working size the app chose from the page's header
line, fits the example photos to it as the app fits an upload, and times each click four ways, in
turn within every repeat:
- in-process: latent_lab's view functions at that size (benchmarks.actions);
- client: a gradio_client call of the public endpoint, uploads and downloads included;
- page: chromium on a fresh page, from the click to the last picture on screen with the summary's
  final key, and to the first picture (the browser's own clock);
- plain: fp32 diffusers calls doing the same encodes and decodes (benchmarks.actions).
Every request is new to the app's memory of answers (the same pixels in a PNG with another text
chunk) while its posterior cache holds the pictures, as for a second click; "encode a new picture"
changes one pixel each time. Generate (20 steps) runs for the embedded pipeline, beside plain
pipe() in the main thread. Then a class presses the same /sample at once, against one request.
Prints the CPU path, a table per model and the targets met or missed; writes a JSON file.
"""

import argparse
from dataclasses import dataclass
from functools import partial
import itertools
import os
from pathlib import Path
import platform
import re
import shutil
import statistics
import tempfile
import time

from PIL import PngImagePlugin
import torch

from benchmarks import actions, page, sd_vae, serving
from benchmarks.report import check, finish, in_turn
from benchmarks.run import CLASS_SIZE, SAME_EXAMPLE_FACTOR, precision_line
from latent_lab import cache, models
from latent_lab.config import EMBEDDED_PIPELINE, EMBEDDED_VAE, EXAMPLES, Settings
from latent_lab.diffusion import generate

# The targets: seconds a click may take, by way of calling and model.
CLIENT_SHARE, CLIENT_PLUS_SECONDS = 0.5, 0.25  # through gradio_client: at most 0.5x plain + 0.25 s
GENERATE_PLUS_SECONDS = 0.25  # /generate: at most plain pipe() in the main thread + this
SD_NEW_PICTURE_SECONDS, SD_FIRST_PICTURE_SECONDS, SD_VIEW_SECONDS = 3.0, 2.0, 8.0  # on the page, 2 cores
FIRST_PICTURE_VIEWS = ("8 samples", "8-frame interpolation", "traversal, 7 frames")

CLIENT_TIMEOUT_SECONDS = 120  # each HTTP request of gradio_client (its default, 5 s, fails a class on a busy host)


@dataclass(frozen=True)
class View:
    """A click: its row (benchmarks.actions' names), endpoint and inputs, and where the page shows it."""

    name: str
    api_name: str
    arguments: tuple  # the inputs after the pictures, as the page's defaults
    photos: int  # picture inputs
    tab: str
    button: str
    pictures: str  # CSS selector of the answer's pictures
    count: int  # how many the answer shows
    summary: str  # CSS selector of the JSON summary
    accordion: str = ""  # opened before the click
    new_picture: bool = False  # one pixel changed for every request


VIEWS = (
    View("encode a new picture", "/encode", (), 1, "Encode", "Encode", "#reconstruction img", 1, "#encode-summary",
         new_picture=True),
    View("8 samples", "/sample", (8, 1.0, 0), 1, "Sample", "Draw samples", "#samples img", 8, "#sample-summary"),
    View("8-frame interpolation", "/interpolate", (8, "slerp"), 2, "Interpolate", "Interpolate", "#frames img", 8,
         "#interpolate-summary"),
    View("traversal, 7 frames", "/traverse", (0, -3.0, 3.0, 7, "spread", ""), 1, "Traverse", "Traverse",
         "#traverse-frames img", 7, "#traverse-summary"),
    View("three ways, 8 frames", "/three_ways", (8,), 2, "Interpolate", "Compare the three ways", "#three-ways img", 3,
         "#three-ways-summary", accordion="Three ways from A to B: lerp, slerp and a pixel crossfade"),
)
THREE_WAYS = VIEWS[-1].name
_REQUEST = generate.Request(actions.GENERATE_PROMPT, steps=actions.GENERATE_STEPS)  # the page's defaults
GENERATE = View("generate, 20 steps", "/generate", (_REQUEST.prompt, _REQUEST.negative_prompt, _REQUEST.scheduler,
                _REQUEST.steps, _REQUEST.guidance_scale, _REQUEST.seed), 0, "Generate", "Generate", "#generated img", 1,
                "#generate-summary")


def working_size(config):
    """(side, reason) of the working size the served app chose, read from its page's header line."""
    for component in config["components"]:
        text = component.get("props", {}).get("value")
        match = re.search(r"Pictures are worked at ((\d+) px.*?)\.?\s*$", text) if isinstance(text, str) else None
        if match:
            return int(match.group(2)), match.group(1)
    raise RuntimeError("The page does not say which size its pictures are worked at.")


def three_ways_size(reason, side):
    """The size Three ways works at, from the header line's reason (sizing.choose_side): `side`
    unless the line names a smaller one."""
    match = re.search(r"Three ways.*? at (\d+) px", reason)
    return int(match.group(1)) if match else side


def saved(picture, path, number):
    """`picture` as a PNG whose text chunk holds `number`: new bytes for the app's memory of answers,
    the same pixels for its posterior cache."""
    info = PngImagePlugin.PngInfo()
    info.add_text("request", str(number))
    picture.save(path, pnginfo=info)
    return path


def nudged(picture, number):
    """A copy of `picture` whose first pixel is changed, differently for each `number` below 65,535:
    a picture no cache has seen."""
    copy = picture.copy()
    red, green, blue = copy.getpixel((0, 0))
    code = number + 1  # never 0: never the picture itself
    copy.putpixel((0, 0), (red ^ (code & 255), green ^ (code >> 8 & 255), blue))
    return copy


class Requests:
    """Picture files for each request of a view, numbered: A (and B at A's size), or a new picture."""

    def __init__(self, picture_a, picture_b, folder):
        self.pictures, self.folder, self.numbers = (picture_a, picture_b), folder, itertools.count()

    def files(self, view):
        number = next(self.numbers)
        if view.new_picture:
            return [saved(nudged(self.pictures[0], number), self.folder / f"new-{number}.png", number)]
        return [saved(picture, self.folder / f"{name}-{number}.png", number)
                for picture, name in zip(self.pictures[:view.photos], "ab")]


def timed(action):
    """`action` as a way of calling: it returns {"seconds": s}."""
    def way():
        started = time.perf_counter()
        action()
        return {"seconds": time.perf_counter() - started}
    return way


def connect(url):
    """A gradio_client for the app at `url`."""
    from gradio_client import Client

    return Client(url, verbose=False, httpx_kwargs={"timeout": CLIENT_TIMEOUT_SECONDS})


def client_call(client, view, files):
    """(seconds, answer) of one gradio_client call of `view`, uploads and downloads included."""
    from gradio_client import handle_file

    uploads = [handle_file(str(file)) for file in files]
    started = time.perf_counter()
    answer = client.predict(*uploads, *view.arguments, api_name=view.api_name)
    return time.perf_counter() - started, answer


@dataclass
class Callers:
    """One served app, and how it is called: gradio_client, chromium, and the request files."""

    url: str
    client: object
    browser: object
    requests: Requests

    def by_client(self, view):
        return {"seconds": client_call(self.client, view, self.requests.files(view))[0]}

    def on_page(self, view, key):
        return page.page_click(self.browser, self.url, view, self.requests.files(view), key)


def medians(results):
    """{way: {measure: median over its calls}} of report.in_turn's results, each call a dict of measures."""
    return {way: {measure: statistics.median(call[measure] for call in calls) for measure in calls[0]}
            for way, calls in results.items()}


def client_limit(view_name, plain_seconds):
    """The most seconds a gradio_client call of this view may take."""
    if view_name == GENERATE.name:
        return plain_seconds + GENERATE_PLUS_SECONDS
    return CLIENT_SHARE * plain_seconds + CLIENT_PLUS_SECONDS


def time_view(view, callers, in_process, plain, repeats):
    """Medians of each way of calling `view`, in turn; one client call first fills the app's caches
    and tells the summary's final key."""
    _, answer = client_call(callers.client, view, callers.requests.files(view))
    key = list(answer[-1])[-1]  # the summary is the last output
    results = in_turn({"in-process": timed(in_process), "client": partial(callers.by_client, view),
                       "page": partial(callers.on_page, view, key), "plain": timed(plain)}, repeats)
    row = medians(results)
    print_row(view.name, row)
    return row


def print_header():
    print(f"{'':24s} {'seconds per click':^47s}   {'/ plain':^22s}")
    print(f"{'click':24s} {'in-process':>10s} {'client':>7s} {'page':>7s} {'first':>7s} {'plain':>9s}   "
          f"{'in-proc':>7s} {'client':>6s} {'page':>6s}   client target")


def print_row(name, row):
    plain, client = row["plain"]["seconds"], row["client"]["seconds"]
    first = f"{row['page']['first']:7.2f}" if name in FIRST_PICTURE_VIEWS else f"{'':7s}"
    limit = client_limit(name, plain)
    print(f"{name:24s} {row['in-process']['seconds']:10.2f} {client:7.2f} {row['page']['seconds']:7.2f} {first} "
          f"{plain:9.2f}   {row['in-process']['seconds'] / plain:7.2f} {client / plain:6.2f} "
          f"{row['page']['seconds'] / plain:6.2f}   ≤ {limit:.2f} {'met' if client <= limit else 'MISSED'}", flush=True)


def model_targets(label, sd, rows, room):
    """The targets for one model: every call through gradio_client, a class of identical
    requests, and on the page for the SD architecture (targets set for 2 cores)."""
    def over_plain(name):
        return "plain + 0.25 s" if name == GENERATE.name else "0.5x plain + 0.25 s"

    targets = [check(f"{label}, {name}, gradio_client ≤ {over_plain(name)}", row["client"]["seconds"],
                     round(client_limit(name, row["plain"]["seconds"]), 2), " s") for name, row in rows.items()]
    targets.append(check(f"{label}, {room['clients']} identical /sample requests at once / one alone",
                         room["same_seconds"] / room["one_request_seconds"], SAME_EXAMPLE_FACTOR, "x"))
    targets.append(check(f"{label}, {room['clients']} identical requests, whole answers", room["same_whole"],
                         room["clients"], at_least=True))
    if sd:
        targets.append(check(f"{label}, a new picture encoded, page", rows[VIEWS[0].name]["page"]["seconds"],
                             SD_NEW_PICTURE_SECONDS, " s"))
        targets += [check(f"{label}, {name}, first picture on the page", rows[name]["page"]["first"],
                          SD_FIRST_PICTURE_SECONDS, " s") for name in FIRST_PICTURE_VIEWS]
        targets += [check(f"{label}, {view.name}, whole view on the page", rows[view.name]["page"]["seconds"],
                          SD_VIEW_SECONDS, " s") for view in VIEWS]
    return targets


def fitted(vae, side):
    """The example pictures A and B as the app fits them to `side` (B at A's size)."""
    picture_a = cache.prepare(vae, EXAMPLES / actions.PHOTO_A, side)
    return picture_a, cache.prepare(vae, EXAMPLES / actions.PHOTO_B, side, size=picture_a.size)


def model_part(label, source, args, browser, folder):
    """Serve `source` with `python app.py` and time every view each way; returns (report, targets)."""
    from diffusers import AutoencoderKL

    env = os.environ | {"LATENT_LAB_VAE": source}
    with serving.launched(env) as (url, _, _, server):
        one_client = connect(url)
        side, reason = working_size(one_client.config)
        vae, plain_vae = models.load_vae(source), AutoencoderKL.from_pretrained(source).eval().requires_grad_(False)
        three_ways_side = three_ways_size(reason, side)
        picture_a, picture_b = fitted(vae, side)
        callers = Callers(url, one_client, browser, Requests(picture_a, picture_b, folder))
        print(f"\n== {label} ({Path(source).name}, {models.parameter_count(vae) / 1e6:.1f} M parameters): the app works "
              f"at {reason}; {actions.PHOTO_A} fitted to {picture_a.width}x{picture_a.height}; median of {args.repeats} ==")
        print_header()
        in_process = actions.app_actions_at(vae, source, side, three_ways_side)
        plain = actions.plain_actions(plain_vae, picture_a, picture_b)
        if three_ways_side != side:  # the app's Three ways works smaller: its plain calls do the same
            plain[THREE_WAYS] = actions.plain_actions(plain_vae, *fitted(vae, three_ways_side))[THREE_WAYS]
        rows = {view.name: time_view(view, callers, in_process[view.name], plain[view.name], args.repeats)
                for view in VIEWS}
        if source == str(EMBEDDED_VAE) and (EMBEDDED_PIPELINE / "model_index.json").exists():
            from diffusers import DiffusionPipeline

            plain_pipe = DiffusionPipeline.from_pretrained(str(EMBEDDED_PIPELINE), torch_dtype=torch.float32)
            app_generate, plain_generate = actions.generate_calls(models.load_pipeline(str(EMBEDDED_PIPELINE)), plain_pipe)
            rows[GENERATE.name] = time_view(GENERATE, callers, app_generate, plain_generate, args.repeats)
        everyone = [connect(url) for _ in range(args.clients)]
        room = serving.a_class(everyone, server, callers.requests.files(VIEWS[1])[0])
    report = {"side": side, "three_ways_side": three_ways_side, "reason": reason,
              "picture": [picture_a.width, picture_a.height], "rows": rows, "class": room}
    return report, model_targets(label, source != str(EMBEDDED_VAE), rows, room)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one timed call per way: a check that it all runs")
    parser.add_argument("--repeats", type=int, help="timed calls per way and view (default 3; 1 with --quick)")
    parser.add_argument("--models", nargs="+", choices=["embedded", "sd"], default=["embedded", "sd"])
    parser.add_argument("--clients", type=int, default=CLASS_SIZE, help="the class pressing /sample together")
    parser.add_argument("--json", default="benchmarks/results/callers.json")
    args = parser.parse_args()
    args.repeats = args.repeats or (1 if args.quick else 3)
    chromium = shutil.which("chromium")
    if chromium is None:
        parser.error("this benchmark drives Debian's chromium: install it (apt-get install chromium)")

    from diffusers.utils import logging as diffusers_logging
    from playwright.sync_api import sync_playwright

    diffusers_logging.set_verbosity_error()  # from_pipe's dtype note on every generate call
    diffusers_logging.disable_progress_bar()
    models.set_threads(Settings.from_env().threads)  # LATENT_LAB_THREADS, as the app reads it
    report = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "threads": torch.get_num_threads(),
                          "torch": torch.__version__}, "quick": args.quick, "precision": precision_line(), "models": {}}
    targets = []
    with tempfile.TemporaryDirectory(prefix="latent-lab-callers-") as temporary, sync_playwright() as playwright:
        folder = Path(temporary)
        sources = {"embedded": ("embedded VAE", str(EMBEDDED_VAE)),
                   "sd": ("SD VAE architecture", str(folder / "sd-vae-architecture"))}  # random weights
        if "sd" in args.models:
            sd_vae.build_sd_vae().save_pretrained(sources["sd"][1], safe_serialization=True)
        browser = playwright.chromium.launch(executable_path=chromium, args=page.BROWSER_FLAGS)
        for name in args.models:
            report["models"][name], model_checks = model_part(*sources[name], args, browser, folder)
            targets += model_checks
        browser.close()
    print(f"(the SD architecture's targets on the page are set for 2 cores; this machine has {os.cpu_count()} CPUs)")
    finish(report, targets, args.json)


if __name__ == "__main__":
    main()
