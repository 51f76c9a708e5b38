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


def test_encode_an_uploaded_photo(page):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("input[type=file]").first.set_input_files(str(EXAMPLES / "coffee.jpg"))
    page.get_by_role("button", name="Encode", exact=True).click()
    page.locator("#reconstruction img").wait_for(state="visible", timeout=60_000)
    page.get_by_text("psnr_db").wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENSHOTS / "encode.png"), full_page=True)
    assert page.locator("#reconstruction img").get_attribute("src")
