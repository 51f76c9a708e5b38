"""On ZeroGPU hardware (the `spaces` package installed) the model-running handlers run under
spaces.GPU; elsewhere they run as they are."""

from functools import wraps
import importlib.util
import inspect
from pathlib import Path
import sys
import types

import pytest

APP = Path(__file__).resolve().parent.parent / "app.py"


def load_app_as(name, monkeypatch):
    """A fresh copy of app.py's module, built with whatever `spaces` is importable now."""
    spec = importlib.util.spec_from_file_location(name, APP)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # gradio reads its classes' source
    spec.loader.exec_module(module)
    return module


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
    on_zero_gpu = load_app_as("app_on_zero_gpu", monkeypatch)
    reconstruction, _, summary = on_zero_gpu.on_encode(str(photo_file))
    assert reconstruction.size == tuple(summary["image_size"])
    on_zero_gpu.on_schedulers()  # lists names, runs no model
    assert fake_spaces.calls == ["on_encode"]


def test_without_spaces_handlers_are_left_alone(monkeypatch):
    monkeypatch.setitem(sys.modules, "spaces", None)  # import spaces -> ImportError
    plain = load_app_as("app_without_spaces", monkeypatch)
    assert plain.gpu_decorator()(len) is len
    assert plain.on_encode.__wrapped__ is inspect.unwrap(plain.on_encode)  # friendly's wrapper alone
