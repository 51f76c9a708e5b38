"""Numbers, options and names from API callers, checked once where they enter (callers of the
API skip the sliders), and the small helpers every summary uses."""

import math
from pathlib import Path

MAX_SEED = 2**32 - 1


class InputError(ValueError):
    """A number or option outside what the app accepts; the message says the accepted range."""


def check_number(value, name, low, high, integer=False):
    """`value` as a float (or int) within [low, high], or an InputError that says the range."""
    kind = "a whole number" if integer else "a number"
    refusal = InputError(f"{name} must be {kind} from {low} to {high}; got {shorten(value)}.")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise refusal from None
    if not math.isfinite(number) or not low <= number <= high or (integer and number != int(number)):
        raise refusal
    return int(number) if integer else number


def shorten(value, limit=40):
    """`value` as a caller sent it, cut for a message (a caller may send megabytes)."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else "a number too large to show"
    return text if len(text) <= limit else text[:limit] + "..."


def model_name(source):
    """How a model is named in summaries: the folder name for a local model, else the hub id."""
    path = Path(source)
    return path.name if path.is_dir() else source


def round_summary(summary, digits=4):
    """Round floats (also inside lists) so JSON summaries stay readable."""
    def tidy(value):
        if isinstance(value, float):
            return round(value, digits)
        if isinstance(value, (list, tuple)):
            return [tidy(v) for v in value]
        if isinstance(value, dict):
            return {key: tidy(v) for key, v in value.items()}
        return value
    return {key: tidy(value) for key, value in summary.items()}
