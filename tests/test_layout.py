"""The layout of the code: three model families on one base. A family imports only the base, never
another family; the base imports no family; gradio only in ui/ and app.py; no module over 350
lines and no function over 60 (training scripts aside)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = ("photos", "diffusion", "digits")
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 350, 60


def modules(*folders):
    return [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))
            if "training" not in path.relative_to(ROOT).parts]


def imported(path):
    """Every module name `path` imports, `from package import module` spelled package.module."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def family_of(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "latent_lab" and parts[1] in FAMILIES else None


@pytest.mark.parametrize("path", modules("latent_lab"), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_family_imports_only_the_base_and_the_base_no_family(path):
    own = family_of(".".join(path.relative_to(ROOT).with_suffix("").parts))
    for name in imported(path):
        assert name.split(".")[0] != "gradio", f"{path.name} imports gradio"
        assert family_of(name) in (None, own), f"{path.relative_to(ROOT)} imports {name}"


def test_the_checks_see_an_import_between_families(tmp_path):
    stray = tmp_path / "walks.py"
    stray.write_text("from latent_lab.photos.interpolate import three_ways_view\nfrom latent_lab import paths\n")
    assert [family_of(name) for name in imported(stray)] == ["photos", "photos", None, None]


@pytest.mark.parametrize("path", modules("latent_lab", "ui") + [ROOT / "app.py"], ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_are_short(path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_MODULE_LINES
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.end_lineno - node.lineno + 1 <= MAX_FUNCTION_LINES, f"{node.name} is too long"


def test_a_tab_bar_holds_only_tabs():
    """The browser numbers a bar's tabs by their place among the Tabs' children: a component made
    between two tabs (a gr.State passed to an event, say) shifts the count, and clicking a tab
    then relabels another (the Digits bar once read "Map | Draw a digit | Prior samples | Draw a digit")."""
    import gradio as gr
    import app
    with gr.Blocks() as stray:
        with gr.Tabs() as tabs:
            with gr.Tab("A"):
                pass
            gr.State(0)
            with gr.Tab("B"):
                pass
    assert [type(child).__name__ for child in tabs.children] == ["Tab", "State", "Tab"]  # what the check sees
    bars = [block for block in app.build_app().blocks.values() if isinstance(block, gr.Tabs)]
    assert len(bars) >= 2  # the page's tabs and the Digits sub-views
    for bar in bars:
        assert all(isinstance(child, gr.Tab) for child in bar.children), [type(c).__name__ for c in bar.children]
    stray.close()
