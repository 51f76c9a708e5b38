"""docs/LESSON.md, walked in chromium step by step in its order, as a teacher would: each step's
clicks, then the number that checks the step's claim, read from the view's summary on the page.
The lesson's screenshots are taken here (tests/screenshots/lesson-*.png; docs/img holds copies)."""

import io
import json
import re

from PIL import Image

from latent_lab.config import EXAMPLES
from tests.test_browser import SCREENSHOTS, draw, open_digits
from tests.test_browser import page  # noqa: F401 (the fixture: a fresh chromium page on the app)
from tests.test_browser import pytestmark  # noqa: F401 (slow; skipped without Debian's chromium)

WAIT = 180_000  # ms: a generous wait for a view's answer on a slow machine (never asserted)


def summary(panel, elem_id, key, until=lambda numbers: True):
    """The JSON summary shown in #elem_id, once it holds `key` (streamed answers show a status
    first) and `until(summary)` holds (a view answering again after a setting moved)."""
    box = panel.locator(f"#{elem_id}")
    for _ in range(WAIT // 250):
        box.get_by_text(f'"{key}"').first.wait_for(timeout=WAIT)
        lines = box.inner_text().split("\n")  # the viewer shows one token a line, under its label (and a timer)
        text = "".join(lines[lines.index("{"):])
        numbers = json.loads(re.sub(r"\[Array\(\d+\)\]|\{Object\(\d+\)\}", "null", text))  # deep parts show folded
        if until(numbers):
            return numbers
        panel.page.wait_for_timeout(250)
    raise AssertionError(f"#{elem_id} never showed the expected answer")


def shot(page, name, locator=None):
    """A screenshot for the lesson, of the whole page scrolled to `locator`."""
    if locator is not None:
        locator.first.evaluate("element => element.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(800)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"lesson-{name}.png"), full_page=False)


def upload(page, panel, *names):
    for index, name in enumerate(names):
        panel.locator("input[type=file]").nth(index).set_input_files(str(EXAMPLES / name))
        page.wait_for_timeout(1500)  # the upload lands before the button reads it


def open_tab(page, title, elem_id):
    page.get_by_role("tab", name=title, exact=True).click()
    return page.locator(f"#{elem_id}")


def step_1_an_encoder_gives_a_distribution(page):
    panel = open_tab(page, "Encode", "tab-encode")
    upload(page, panel, "coffee.jpg")
    panel.get_by_role("button", name="Encode", exact=True).click()
    numbers = summary(panel, "encode-summary", "kl_per_dim")
    assert numbers["latent_shape"][0] == 4 and numbers["sigma_min"] > 0  # μ and σ > 0 in every cell
    assert numbers["kl_per_dim"] > 0 and numbers["psnr_db"] > 20
    shot(page, "encode", panel.locator("#reconstruction"))


def step_2_samples_vary_around_the_picture(page):
    panel = open_digits(page, "Draw a digit")
    canvas = panel.locator("#digit-sketch canvas").first
    canvas.wait_for(state="visible", timeout=WAIT)
    panel.locator("#digit-sketch").get_by_role("button", name="Brush").click()
    draw(page, canvas, [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]])  # a 7
    page.wait_for_timeout(1500)
    panel.get_by_role("button", name="Encode my digit").click()
    numbers = summary(panel, "digits-draw-summary", "keep_label_share")
    assert numbers["digits-ae-2d"]["sigma"] is None and len(numbers["digits-vae-2d"]["sigma"]) == 2
    assert numbers["sigma_scale"] == 1 and numbers["pixel_std_mean"] > 0  # samples differ ...
    assert numbers["keep_label_share"] >= 0.75  # ... and keep their digit
    for picture in ("#ae-marked", "#vae-marked", "#digit-samples"):  # drawn, not still loading
        panel.locator(f"{picture} img").first.wait_for(state="visible", timeout=WAIT)
    page.wait_for_timeout(2500)  # for the screenshot only: the strokes' own updates settle
    shot(page, "digits-draw", panel.locator("#vae-marked"))
    panel.get_by_label("σ-scale").first.fill("3")  # slide σ-scale to 3
    panel.get_by_role("button", name="Encode my digit").click()
    wide = summary(panel, "digits-draw-summary", "keep_label_share", until=lambda numbers: numbers["sigma_scale"] == 3)
    assert wide["keep_label_share"] < numbers["keep_label_share"]
    assert len(set(wide["sample_labels"])) > 1  # some samples turn into other digits
    photo = open_tab(page, "Sample", "tab-sample")  # photos: σ barely changes the picture
    upload(page, photo, "chelsea.jpg")
    photo.get_by_role("button", name="Draw samples").click()
    assert summary(photo, "sample-summary", "difference_mean")["difference_mean"] < 3  # grey levels


def step_3_the_kl_term_packs_the_codes(page):
    panel = open_digits(page, "Map")
    numbers = summary(panel, "digits-map-summary", "clear_share")
    ae, vae = numbers["digits-ae-2d"], numbers["digits-vae-2d"]
    assert min(ae["code_std"]) > 3 and max(vae["code_std"]) < 1.5  # far beyond the rings; inside them
    assert ae["clear_share"] > 0.85  # the AE's decoder draws digit-like shapes almost everywhere
    assert ae["prior_label_mix"]["0"] == 0 < vae["prior_label_mix"]["0"]  # N(0, I) never reaches the AE's 0s
    vae_map = panel.locator("#vae-map img")
    box = vae_map.bounding_box()
    vae_map.click(position={"x": box["width"] * 0.75, "y": box["height"] * 0.25})  # click a point to decode it
    point = summary(panel, "digits-point-summary", "label")
    assert point["model"] == "digits-vae-2d"
    shot(page, "digits-map", panel.locator("#vae-map"))


def step_4_random_latents_decode_to_digits_only_for_the_vae(page):
    panel = open_digits(page, "Prior samples")
    panel.get_by_role("button", name="Decode random latents").click()
    models = summary(panel, "digits-prior-summary", "digit_likeness_256")["models"]
    ae, vae = (models[name]["digit_likeness_256"] for name in ("digits-ae-16", "digits-vae-16"))
    assert ae <= vae - 0.3 and vae > 0.8
    shot(page, "digits-prior", panel.locator("#digits-prior"))


def step_5_walks(page):
    panel = open_digits(page, "Walk")
    panel.get_by_role("button", name="Walk from A to B").click()
    walk = summary(panel, "digits-walk-summary", "steps")
    assert set(walk["models"]) >= {"digits-ae-16", "digits-vae-16"}
    shot(page, "digits-walk", panel.locator("#digits-walk"))
    photos = open_tab(page, "Interpolate", "tab-interpolate")
    upload(page, photos, "astronaut.jpg", "chelsea.jpg")
    photos.get_by_role("button", name="Interpolate", exact=True).click()
    distances = summary(photos, "interpolate-summary", "crossfade_psnr_db")["crossfade_psnr_db"]["slerp"]
    assert min(d for d in distances if d is not None) > 20  # each frame close to a pixel crossfade (30 dB: alike)
    shot(page, "interpolate", photos.locator("#frames"))
    generate = open_tab(page, "Generate", "tab-generate")
    generate.get_by_text("Walk between two prompts").click()
    generate.get_by_role("button", name="Walk", exact=True).click()
    diffusion = summary(generate, "walk-summary", "max_over_mean")
    assert diffusion["max_over_mean"] > 1.5  # a few big steps
    generate.get_by_role("button", name="Walk the same two ends through the VAE's latents").click()
    ghost = summary(generate, "vae-walk-summary", "crossfade_psnr_db")
    assert min(d for d in ghost["crossfade_psnr_db"] if d is not None) > 25  # the ghostly crossfade
    shot(page, "latent-walk", generate.locator("#walk-frames"))


def step_6_directions_mean_something(page):
    panel = open_digits(page, "Traversals")
    panel.get_by_role("button", name="Sweep every number").click()
    numbers = summary(panel, "digits-traverse-summary", "kl_per_dim_test_mean")
    kl = numbers["kl_per_dim_test_mean"]
    assert [kl[number] for number in numbers["order"]] == sorted(kl, reverse=True)  # rows sorted by KL
    scenes = open_tab(page, "Arithmetic", "tab-arithmetic")
    for index, name in enumerate(["red-circle-on-blue", "red-circle-on-yellow", "green-circle-on-yellow"]):
        scenes.locator("input[type=file]").nth(index).set_input_files(str(EXAMPLES / "scenes" / f"{name}.png"))
        page.wait_for_timeout(1500)
    scenes.get_by_role("button", name="Compute A + strength · (C − B)").click()
    summary(scenes, "arithmetic-summary", "result_norm")
    result = scenes.locator("#arithmetic-result img")
    result.wait_for(state="visible", timeout=WAIT)
    picture = Image.open(io.BytesIO(page.request.get(result.get_attribute("src")).body())).convert("RGB")
    red, green, blue = picture.getpixel((picture.width // 2, picture.height // 2))  # the circle's centre
    assert green > red + 40  # red turned green
    shot(page, "arithmetic", result)


def step_7_diffusion_works_in_this_latent_space(page):
    panel = open_tab(page, "Generate", "tab-generate")
    panel.get_by_role("button", name="Generate", exact=True).click()
    generated = summary(panel, "generate-summary", "seconds")
    assert generated["steps"] == 20
    panel.get_by_text("Why a diffusion model? Decode its starting noise directly").click()
    panel.get_by_role("button", name="Decode z ~ N(0, I) with the VAE, beside the diffusion model's picture").click()
    prior = summary(panel, "prior-summary", "diffusion")
    assert prior["prior_decoded"]["neighbour_difference"] > prior["diffusion"]["neighbour_difference"]
    shot(page, "generate", panel.locator("#generated"))


def step_8_the_kl_weight_is_a_knob_and_training_makes_the_map(page):
    panel = open_digits(page, "β, the KL weight")
    family = {(row["latent_dim"], row["kl_weight"]): row
              for row in summary(panel, "digits-beta-summary", "family")["family"]}
    assert family[2, 0]["code_std"] > 3 > 1.5 > family[2, 1]["code_std"]  # β = 0: codes spread far; β ≈ 1: N(0, I)
    assert family[16, 0]["prior_digit_likeness"] <= family[16, 1]["prior_digit_likeness"] - 0.3  # the AE's miss
    blur = [family[16, beta]["psnr_db"] for beta in (1, 4, 16)]
    active = [family[16, beta]["active_dims"] for beta in (1, 4, 16)]
    assert blur == sorted(blur, reverse=True) and active == sorted(active, reverse=True) and active[-1] < 8
    panel.get_by_label("β", exact=False).first.fill(str(len(family) // 2))  # move the slider: the map switches
    shot(page, "digits-beta", panel.locator("#beta-map"))
    training = open_digits(page, "Training")
    replay = summary(training, "digits-training-summary", "snapshots")["snapshots"]
    shares = [snapshot["clear_share"] for snapshot in replay]
    assert replay[0]["step"] == 0 and shares[0] < 0.2 < 0.8 < shares[-1]  # the map forms
    training.locator("#train-now").click()
    live = summary(training, "digits-train-summary", "clear_share", until=lambda numbers: numbers.get("done"))
    assert live["steps"] == live["total_steps"] > 0 and live["clear_share"] > 0.5
    shot(page, "digits-training", training.locator("#live-picture"))
    # The model just trained is this page's: a map of its own in Map, the drawn 7 on it in Draw.
    yours = summary(open_digits(page, "Map"), "your-map-summary", "clear_share")
    assert yours["model"] == live["name"] and yours["clear_share"] > 0.5
    draw_panel = open_digits(page, "Draw a digit")
    draw_panel.get_by_role("button", name="Encode my digit").click()
    marked = summary(draw_panel, "your-digit-summary", "mu")
    assert marked["model"] == live["name"] and marked["sigma"] is not None and marked["in_view"]
    shot(page, "digits-yours", draw_panel.locator("#your-digit"))


def test_the_lesson_step_by_step(page):  # noqa: F811
    """The steps in LESSON.md's order; each asserts the number its claim names."""
    lesson = (SCREENSHOTS.parent.parent / "docs" / "LESSON.md").read_text()
    headings = re.findall(r"^## (\d)\. ", lesson, flags=re.M)
    assert headings == ["1", "2", "3", "4", "5", "6", "7", "8"]
    for step in (step_1_an_encoder_gives_a_distribution, step_2_samples_vary_around_the_picture,
                 step_3_the_kl_term_packs_the_codes, step_4_random_latents_decode_to_digits_only_for_the_vae,
                 step_5_walks, step_6_directions_mean_something, step_7_diffusion_works_in_this_latent_space,
                 step_8_the_kl_weight_is_a_knob_and_training_makes_the_map):
        step(page)
