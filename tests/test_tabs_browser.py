"""The tab bars in a real browser: every tab and sub-tab is clicked from every other, by its label,
and the labels never change while the clicked one opens."""


import app
from tests.test_browser import page  # noqa: F401 (the fixture: a fresh chromium page on the app)
from tests.test_browser import pytestmark  # noqa: F401 (slow; skipped without Debian's chromium)
from ui import digits


def labels(bar):
    return bar.get_by_role("tab").all_inner_texts()


def every_ordered_pair(count):
    """An order of visits to `count` tabs that goes from each tab to each other one exactly once
    (an Euler circuit of the complete directed graph): count·(count - 1) + 1 visits."""
    unused = {tab: [other for other in range(count) if other != tab] for tab in range(count)}
    stack, circuit = [0], []
    while stack:
        if unused[stack[-1]]:
            stack.append(unused[stack[-1]].pop())
        else:
            circuit.append(stack.pop())
    return circuit[::-1]


def test_the_visits_cover_every_ordered_pair_once():
    visits = every_ordered_pair(5)
    pairs = list(zip(visits, visits[1:]))
    assert len(pairs) == 20 and len(set(pairs)) == 20 and all(a != b for a, b in pairs)


def click_every_pair(page, bar, expected):
    """Go from each tab of `bar` to each other one, by label; after every click the bar reads
    `expected` and the tab clicked is the selected one."""
    from playwright.sync_api import expect
    tabs = bar.get_by_role("tab")
    expect(tabs).to_have_text(expected)
    for index in every_ordered_pair(len(expected)):
        name = expected[index]
        bar.get_by_role("tab", name=name, exact=True).click()
        expect(bar.locator("[role=tab][aria-selected=true]")).to_have_text(name)  # waits for the page to settle
        assert labels(bar) == expected


def test_every_tab_opens_from_every_other_and_keeps_its_label(page):  # noqa: F811
    top = page.get_by_role("tablist").first
    click_every_pair(page, top, [tab.TITLE for tab in app.TABS])


def test_every_digits_sub_view_opens_from_every_other_and_keeps_its_label(page):  # noqa: F811
    page.get_by_role("tab", name=digits.TITLE, exact=True).click()
    bar = page.locator(f"#{digits.ELEM_ID}").get_by_role("tablist").first
    bar.get_by_role("tab").first.wait_for()
    expected = labels(bar)
    assert expected[:5] == ["Map", "Draw a digit", "Prior samples", "Walk", "Traversals"] and len(expected) == len(digits.SUB_VIEWS)
    click_every_pair(page, bar, expected)
