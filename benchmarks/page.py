"""A click timed in chromium, on the browser's own clock: from the click to the first picture on
screen, and to the last one with the summary's final key. The browser flags are the ones the
browser tests use too."""

BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGE_TIMEOUT_MS = 600_000


# True, as the browser's clock reads it, once `count` pictures are on screen and the summary shows `key`.
SHOWN = """([pictures, count, summary, key]) => {
  const loaded = [...document.querySelectorAll(pictures)].filter(img => img.complete && img.naturalWidth > 0);
  const answered = !key || (document.querySelector(summary)?.innerText ?? "").includes(`"${key}"`);
  return loaded.length >= count && answered && performance.now();
}"""


def page_click(browser, url, view, files, key):
    """A fresh page: open `view`'s tab, upload `files`, click. {"seconds": from the click to the
    last picture on screen with the summary's final `key`, "first": to the first picture}."""
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    try:
        page.goto(url)
        page.get_by_role("tab", name=view.tab, exact=True).click()
        panel = page.locator(f"#tab-{view.tab.lower()}")
        for index, file in enumerate(files):
            panel.locator("input[type=file]").nth(index).set_input_files(str(file))
            panel.locator(f'.image-frame img[src$="/{file.name}"]').wait_for(timeout=PAGE_TIMEOUT_MS)  # uploaded
        if view.accordion:
            panel.get_by_text(view.accordion, exact=True).click()
        button = panel.get_by_role("button", name=view.button, exact=True)
        button.evaluate("b => b.addEventListener('click', () => { window.clickedAt = performance.now(); }, {once: true})")
        button.click()
        first = page.wait_for_function(SHOWN, arg=[view.pictures, 1, view.summary, ""], timeout=PAGE_TIMEOUT_MS)
        last = page.wait_for_function(SHOWN, arg=[view.pictures, view.count, view.summary, key], timeout=PAGE_TIMEOUT_MS)
        clicked = page.evaluate("window.clickedAt")
        return {"seconds": (last.json_value() - clicked) / 1000, "first": (first.json_value() - clicked) / 1000}
    finally:
        page.close()
