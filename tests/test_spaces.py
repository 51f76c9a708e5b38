"""On ZeroGPU hardware (the `spaces` package installed) the model-running handlers run under
spaces.GPU; elsewhere they run as they are."""

from functools import wraps
import importlib
import sys
import types

from PIL import Image
import pytest


def fresh_ui(monkeypatch):
    """Fresh copies of ui.common, ui.encode and ui.generate, built with whatever `spaces` is
    importable now (the decorator is chosen when ui.common is imported)."""
    for name in ("ui.common", "ui.encode", "ui.generate"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return [importlib.import_module(name) for name in ("ui.common", "ui.encode", "ui.generate")]


@pytest.fixture
def fake_spaces(monkeypatch):
    spaces = types.ModuleType("spaces")
    spaces.calls = []

    def GPU(handler):
        @wraps(handler)
        def on_gpu(*args, **kwargs):
            spaces.calls.append(handler.__name__)
            return handler(*args, **kwargs)
        return on_gpu

    spaces.GPU = GPU
    monkeypatch.setitem(sys.modules, "spaces", spaces)
    return spaces


def test_model_handlers_run_under_spaces_gpu(fake_spaces, photo_file, monkeypatch):
    _common, encode, generate = fresh_ui(monkeypatch)
    reconstruction, _, summary = encode.on_encode(str(photo_file))
    assert Image.open(reconstruction).size == tuple(summary["image_size"])
    generate.on_schedulers()  # lists names, runs no model
    assert fake_spaces.calls == ["on_encode"]


def wrappers(handler):
    """The wrappers around a handler, outermost first, by their function's name."""
    names = []
    while hasattr(handler, "__wrapped__"):
        names.append(handler.__code__.co_name)
        handler = handler.__wrapped__
    return names


def test_without_spaces_handlers_are_left_alone(monkeypatch):
    monkeypatch.setitem(sys.modules, "spaces", None)  # import spaces -> ImportError
    common, encode, _generate = fresh_ui(monkeypatch)
    assert common.gpu_decorator()(len) is len
    # friendly's, remembered's and on_model_thread's; no GPU one
    assert wrappers(encode.on_encode) == ["wrapped", "remembering", "called"]
