"""What every tab shares: the settings read from the environment, the example photos, the
ZeroGPU decorator and the models the tabs run."""

from pathlib import Path

from latent_lab import models, sizing
from latent_lab.checks import InputError
from latent_lab.config import EXAMPLES, MODEL_FAMILY, Settings
from latent_lab.streams import on_model_thread

settings = Settings.from_env()  # tests replace it before the app is built
EXAMPLE_IMAGES = sorted(str(p) for p in EXAMPLES.glob("*.jpg"))
EXAMPLE_PAIRS = [EXAMPLE_IMAGES[i:i + 2] for i in range(0, len(EXAMPLE_IMAGES) - 1, 2)]


def gpu_decorator():
    """`spaces.GPU` where the `spaces` package is installed (ZeroGPU hardware on Hugging Face
    Spaces, which lends a GPU to one call at a time); elsewhere handlers run as they are."""
    try:
        import spaces
    except ImportError:
        return lambda handler: handler
    return spaces.GPU


gpu = gpu_decorator()  # on every handler that runs a model


@on_model_thread  # loading runs torch too: on a thread that runs models
def vae(name=None):
    """The chosen VAE (default: LATENT_LAB_VAE's) and its source, loaded once."""
    choices = settings.vae_choices()
    name = name or settings.vae_name
    if name not in choices:
        raise InputError(f"Unknown model {str(name)[:80]!r}. Choose one of: {', '.join(choices)}.")
    return models.load_vae(choices[name]), choices[name]


@on_model_thread
def pipe():
    return models.load_pipeline(settings.pipeline)


@on_model_thread  # its first call times a decode
def working_size(name=None):
    """The size the photo views work at with the chosen VAE, and why (sizing.working_size)."""
    model, source = vae(name)
    embedded = any(Path(source) == path for path in MODEL_FAMILY)
    return sizing.working_size(model, settings.max_side, embedded)


def max_side(name=None):
    return working_size(name).side
