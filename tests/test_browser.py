"""The page in a real browser: Debian's chromium driven by Playwright."""

from pathlib import Path
import shutil

import pytest

from latent_lab.config import EXAMPLES

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]


@pytest.fixture
def page(app_url):
    """A fresh page for each test, so that no test depends on what another left behind."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(app_url)
        yield page
        browser.close()


def run_tab(page, tab, files, button, result, screenshot, name=None):
    """Open `tab`, upload `files` into its picture inputs, press `button`, wait for its
    summary (#name-summary) to be filled in and for `result` to show."""
    name = name or tab.lower()
    page.get_by_role("tab", name=tab).click()
    panel = page.locator(f"#tab-{name}")
    for index, file in enumerate(files):
        panel.locator("input[type=file]").nth(index).set_input_files(str(EXAMPLES / file))
        page.wait_for_timeout(2000)  # let the upload finish before the button reads it
    panel.get_by_role("button", name=button, exact=True).click()
    panel.locator(f"#{name}-summary").get_by_text('"model"').first.wait_for(timeout=180_000)
    panel.locator(result).first.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1000)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
    return panel


def test_encode_an_uploaded_photo(page):
    panel = run_tab(page, "Encode", ["coffee.jpg"], "Encode", "#reconstruction img", "encode.png")
    panel.get_by_text("psnr_db").wait_for(timeout=30_000)
    assert panel.locator("#reconstruction img").get_attribute("src")


def test_sample_shows_a_gallery(page):
    panel = run_tab(page, "Sample", ["chelsea.jpg"], "Draw samples", "#samples img", "sample.png")
    assert panel.locator("#samples img").count() >= 8


def test_interpolate_shows_frames_and_animation(page):
    panel = run_tab(page, "Interpolate", ["astronaut.jpg", "chelsea.jpg"], "Interpolate", "#animation img",
                    "interpolate.png")
    assert panel.locator("#frames img").count() >= 8


def test_channels_shows_the_plots(page):
    panel = run_tab(page, "Channels", ["rocket.jpg"], "Show channels", "#channels-plot", "channels.png")
    assert panel.locator("#channels-summary").get_by_text('"std"').count() == 4


def test_generate_streams_a_picture(page):
    panel = run_tab(page, "Generate", [], "Generate", "#generated img", "generate.png")
    assert panel.locator("#generate-summary").get_by_text('"seconds"').count() == 1


def test_traverse_shows_a_strip(page):
    panel = run_tab(page, "Traverse", ["coffee.jpg"], "Traverse", "#traverse-frames img", "traverse.png")
    assert panel.locator("#traverse-frames img").count() >= 7


def test_arithmetic_shows_the_result(page):
    page.get_by_role("tab", name="Arithmetic").click()
    panel = page.locator("#tab-arithmetic")
    for index, name in enumerate(["red-circle-on-blue", "red-circle-on-yellow", "green-circle-on-yellow"]):
        panel.locator("input[type=file]").nth(index).set_input_files(str(EXAMPLES / "scenes" / f"{name}.png"))
        page.wait_for_timeout(2000)
    panel.get_by_role("button", name="Compute A + strength · (C − B)").click()
    panel.locator("#arithmetic-summary").get_by_text('"model"').wait_for(timeout=180_000)
    panel.locator("#arithmetic-result img").wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SCREENSHOTS / "arithmetic.png"), full_page=True)


def test_compare_shows_one_row_per_model(page):
    panel = run_tab(page, "AE vs VAE", ["astronaut.jpg", "chelsea.jpg"], "Compare the models", "#compare-rows img",
                    "compare.png", name="compare")
    assert panel.locator("#compare-rows img").count() == 3


def test_map_draws_the_plane_and_a_click_picks_a_point(page):
    page.get_by_role("tab", name="Map").click()
    panel = page.locator("#tab-map")
    panel.locator("#map-summary").get_by_text('"grid_size"').wait_for(timeout=90_000)
    latent_map = panel.locator("#latent-map img")
    latent_map.wait_for(state="visible", timeout=30_000)
    box = latent_map.bounding_box()
    latent_map.click(position={"x": box["width"] * 0.9, "y": box["height"] * 0.1})  # top right: z1 > 0, z2 > 0
    page.wait_for_timeout(3000)
    summary = panel.locator("#map-summary").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "map.png"), full_page=True)
    assert '"picked"' in summary and "3.2" in summary.replace(" ", "").replace("\n", "")


def test_a_lesson_saved_in_the_browser_opens_again(page, tmp_path):
    page.get_by_role("tab", name="Sample").click()
    panel = page.locator("#tab-sample")
    panel.locator("input[type=file]").first.set_input_files(str(EXAMPLES / "rocket.jpg"))
    page.wait_for_timeout(2000)
    page.get_by_text("Lessons: save the open tab's demo").click()
    page.get_by_role("button", name="Save the open tab as a lesson").click()
    page.locator("#lesson-status").get_by_text("Saved the sample tab").wait_for(timeout=30_000)
    with page.expect_download() as download:
        page.locator("#lesson-file a").first.click()
    lesson = tmp_path / "lesson.json"
    download.value.save_as(lesson)
    assert '"view": "sample"' in lesson.read_text()
    page.get_by_role("tab", name="Encode").click()
    page.locator("#lesson-upload input[type=file]").set_input_files(str(lesson))
    page.locator("#lesson-status").get_by_text("Opened a lesson for the Sample tab").wait_for(timeout=30_000)
    page.locator("#tab-sample").wait_for(state="visible", timeout=30_000)
