"""The digits family's networks, and one cached loader by name.

One small convolutional encoder/decoder with a vector latent, as a plain autoencoder ("ae": the
encoder gives one point μ) or a VAE ("vae": μ and log σ², trained with a KL weight), and a small
digit classifier. All are diffusers models (config.json + safetensors). They are tiny: they run
on the CPU, in fp32.
"""

from functools import cache

from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
import numpy as np
import torch
from torch import nn

from latent_lab.config import ASSETS
from latent_lab.checks import InputError

MODELS = ASSETS / "models"
TEST_DIGITS = MODELS / "digits-test" / "test_digits.npz"
TRAIN_DIGITS = MODELS / "digits-train" / "train_digits.npz"  # what a model trained live in the app learns from
# (name, kind, latent_dim, kl_weight): the family, in the order the app lists it.
FAMILY = (
    ("digits-ae-2d", "ae", 2, 0.0),
    ("digits-vae-2d", "vae", 2, 1.0),
    ("digits-ae-16", "ae", 16, 0.0),
    ("digits-vae-16", "vae", 16, 1.0),
    ("digits-vae-16-strong", "vae", 16, 4.0),
)
# The β family's other KL weights: the same networks, trained the same way, to see what the
# weight does (the "β, the KL weight" view). Weights 0, 0.05, 0.2, 1, 4, 16: a factor ~4 apart.
# Their weights ship in fp16 (half the size; decodes differ by float rounding only).
BETA_FAMILY = (
    ("digits-vae-2d-beta-0.05", "vae", 2, 0.05),
    ("digits-vae-2d-beta-0.2", "vae", 2, 0.2),
    ("digits-vae-2d-beta-4", "vae", 2, 4.0),
    ("digits-vae-2d-beta-16", "vae", 2, 16.0),
    ("digits-vae-16-beta-16", "vae", 16, 16.0),
)
# The networks' sizes by latent length: wider than the class's defaults, with 3x3 convolutions at
# each resolution (two for 16 numbers, one for 2), so that more of the random latents and more of
# the 2-number plane decode to clear digits.
NETWORKS = {2: {"hidden": 256, "depth": 1}, 16: {"hidden": 256, "depth": 2}}
CLASSIFIER = "digits-classifier"
NO_DIGIT = 10  # the classifier's eleventh class: noise, blobs, scribbles, empty, two digits at once


def refine(channels, depth):
    """`depth` size-keeping 3x3 convolutions: more drawing at one resolution (none: depth 0)."""
    return [layer for _ in range(depth) for layer in (nn.Conv2d(channels, channels, 3, padding=1), nn.SiLU())]


class DigitsAutoencoder(ModelMixin, ConfigMixin):
    """A 28x28 digit <-> a vector of `latent_dim` numbers. kind "vae": the encoder gives μ and
    log σ² (trained with `kl_weight`); kind "ae": it gives μ only (no σ, no KL). `hidden` and
    `depth` size the networks (the 16-number models are the larger ones)."""

    @register_to_config
    def __init__(self, kind="vae", latent_dim=16, kl_weight=1.0, channels=32, hidden=128, depth=0):
        super().__init__()
        if kind not in ("ae", "vae"):
            raise ValueError(f"kind must be 'ae' or 'vae', not {kind!r}.")
        outputs = 2 * latent_dim if kind == "vae" else latent_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(1, channels, 4, stride=2, padding=1), nn.SiLU(), *refine(channels, depth),  # (N, C, 14, 14)
            nn.Conv2d(channels, channels, 4, stride=2, padding=1), nn.SiLU(), *refine(channels, depth),  # (N, C, 7, 7)
            nn.Flatten(), nn.Linear(channels * 49, hidden), nn.SiLU(),
            nn.Linear(hidden, outputs))  # (N, 2d) or (N, d)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.SiLU(),
            nn.Linear(hidden, channels * 49), nn.SiLU(), nn.Unflatten(1, (channels, 7, 7)),
            *refine(channels, depth),
            nn.ConvTranspose2d(channels, channels, 4, stride=2, padding=1), nn.SiLU(),  # (N, C, 14, 14)
            *refine(channels, depth),
            nn.ConvTranspose2d(channels, 1, 4, stride=2, padding=1))  # (N, 1, 28, 28) logits

    def encode(self, pixels):
        """(N, 28, 28) in [0, 1] -> μ (N, d) and log σ² (N, d), or μ and None for an autoencoder."""
        out = self.encoder(pixels[:, None])
        if self.config.kind == "ae":
            return out, None
        mean, logvar = out.chunk(2, dim=1)
        return mean, logvar.clamp(-20, 10)

    def decode_logits(self, z):
        """(N, d) -> (N, 28, 28) logits: each pixel's ink is sigmoid(logit), a Bernoulli mean."""
        return self.decoder(z)[:, 0]

    def decode(self, z):
        """(N, d) -> (N, 28, 28) ink in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z))


class DigitClassifier(ModelMixin, ConfigMixin):
    """A 28x28 picture -> 11 logits: the digits 0-9 and NO_DIGIT."""

    @register_to_config
    def __init__(self, classes=11, channels=(16, 32, 64), hidden=64):
        super().__init__()
        layers, width = [], 1
        for out in channels:  # 28 -> 14 -> 7 -> 3
            layers += [nn.Conv2d(width, out, 3, padding=1), nn.SiLU(), nn.MaxPool2d(2)]
            width = out
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(width * 9, hidden), nn.SiLU(),
                                 nn.Linear(hidden, classes))

    def forward(self, pixels):
        """(N, 28, 28) in [0, 1] -> (N, classes) logits."""
        return self.net(pixels[:, None])


def family():
    """The whole family (the β weights last) for /digits_models, in a fixed order."""
    return [{"name": name, "kind": kind, "latent_dim": dim, "kl_weight": kl}
            for name, kind, dim, kl in FAMILY + BETA_FAMILY]


def names(latent_dim=None, beta=False):
    """The names of the models the main views show (those with `latent_dim` numbers, when given);
    with beta=True, the β family's other weights too."""
    rows = FAMILY + BETA_FAMILY if beta else FAMILY
    return [name for name, _, dim, _ in rows if latent_dim in (None, dim)]


def spec(name):
    """(name, kind, latent_dim, kl_weight) of a family member."""
    return next(row for row in FAMILY + BETA_FAMILY if row[0] == check_name(name))


def untrained(name):
    """A new, untrained `name` as the family trains it: its kind and KL weight, and the networks
    NETWORKS gives its latent length."""
    _, kind, latent_dim, kl_weight = spec(name)
    return DigitsAutoencoder(kind=kind, latent_dim=latent_dim, kl_weight=kl_weight, **NETWORKS[latent_dim])


def check_name(name, known=None):
    """`name` if it is one of `known` (default: the whole family), else an InputError listing them."""
    known = names(beta=True) if known is None else known
    if name not in known:
        raise InputError(f"Unknown digits model {str(name)[:60]!r}. Choose one of: {', '.join(known)}.")
    return name


@cache
def load(name):
    """The model called `name` (one of the family, or CLASSIFIER), loaded once, in eval mode."""
    check_name(name, names(beta=True) + [CLASSIFIER])
    kind = DigitClassifier if name == CLASSIFIER else DigitsAutoencoder
    model = kind.from_pretrained(MODELS / name, torch_dtype=torch.float32, use_safetensors=True)
    return model.eval().requires_grad_(False)


def _shipped_digits(path):
    """Digits shipped as npz: images (N, 28, 28) uint8, light ink on black, and labels (N,), read-only
    (they are shared by every request)."""
    with np.load(path) as data:
        images, labels = data["images"], data["labels"].astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


@cache
def test_digits():
    """The held-out digits shipped with the app."""
    return _shipped_digits(TEST_DIGITS)


@cache
def train_digits():
    """The 4,000 training digits shipped for training live."""
    return _shipped_digits(TRAIN_DIGITS)
