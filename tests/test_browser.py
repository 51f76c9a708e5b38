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


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(app_url)
        yield page
        browser.close()


def run_tab(page, tab, files, button, result, screenshot):
    """Open `tab`, upload `files` into its picture inputs, press `button`, wait for its
    summary to be filled in and for `result` to show."""
    page.get_by_role("tab", name=tab).click()
    panel = page.locator(f"#tab-{tab.lower()}")
    for index, name in enumerate(files):
        panel.locator("input[type=file]").nth(index).set_input_files(str(EXAMPLES / name))
    panel.get_by_role("button", name=button, exact=True).click()
    panel.locator(f"#{tab.lower()}-summary").get_by_text('"model"').wait_for(timeout=90_000)
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
