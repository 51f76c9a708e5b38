"""What a text-to-image pipeline is made of: its parts, their sizes and the scheduler's settings."""

import math

import numpy as np
import torch


def json_safe(value):
    """Config values as plain JSON: tuples and arrays become lists, private keys ("_...") go."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items() if not str(key).startswith("_")}
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return json_safe(value.tolist())
    if isinstance(value, (list, tuple, set)):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no inf or nan
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def anatomy(pipe):
    """What a pipeline is made of: each component's class, and for networks their size and dtype;
    the scheduler's whole configuration. A JSON-ready dict."""
    components = []
    for name, component in pipe.components.items():
        if component is None:
            continue
        entry = {"name": name, "class": type(component).__name__}
        if isinstance(component, torch.nn.Module):
            parameters = list(component.parameters())
            entry["parameters"] = sum(p.numel() for p in parameters)
            entry["dtype"] = str(parameters[0].dtype).removeprefix("torch.") if parameters else None
        if name == "scheduler":
            entry["config"] = json_safe(dict(component.config))
        if name == "tokenizer":
            entry["vocab_size"] = len(component)
            entry["max_length"] = component.model_max_length
        components.append(entry)
    return {"pipeline": type(pipe).__name__, "components": components,
            "total_parameters": sum(entry.get("parameters", 0) for entry in components)}
