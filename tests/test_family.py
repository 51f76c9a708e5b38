"""The embedded model family: a plain autoencoder, the VAE and a strong-KL VAE."""

import pytest
import torch

from latent_lab import vae as vae_ops
from latent_lab.imaging import to_tensor
from latent_lab.config import MODEL_FAMILY
from latent_lab.models import load_vae
from latent_lab.training.evaluate import prior_closeness
from tests.conftest import photo_like

pytestmark = pytest.mark.skipif(not all((p / "config.json").exists() for p in MODEL_FAMILY),
                                reason="the model family is not trained yet")


@pytest.fixture(scope="module")
def family():
    return {path.name: load_vae(str(path)) for path in MODEL_FAMILY}


def test_each_model_round_trips_and_only_the_autoencoder_lacks_sigma(family):
    picture = photo_like(128, 96)
    for name, model in family.items():
        posterior = vae_ops.encode(model, picture)
        assert posterior.mean.shape == (1, 4, 12, 16)
        assert posterior.has_sigma == (name != "latent-lab-ae"), name
        reconstruction = vae_ops.decode(model, posterior.mean)
        assert reconstruction.shape == (1, 3, 96, 128)
        assert vae_ops.psnr(to_tensor(picture), reconstruction) > 18, name


def test_a_stronger_kl_term_makes_random_latents_decode_to_picture_like_patches(family):
    """Measure: mean PSNR of decodes of z ~ N(0, I) against their nearest training crop."""
    closeness = {name: prior_closeness(model, samples=8, bank=128) for name, model in family.items()}
    assert closeness["latent-lab-vae-strong-kl"] > closeness["latent-lab-ae"] + 2, closeness
    assert closeness["latent-lab-vae-strong-kl"] > closeness["latent-lab-vae"] > closeness["latent-lab-ae"], closeness


def test_a_stronger_kl_term_widens_sigma(family):
    picture = photo_like(128, 96, seed=3)
    sigma = {name: vae_ops.encode(family[name], picture).std.mean().item()
             for name in ("latent-lab-vae", "latent-lab-vae-strong-kl")}
    assert sigma["latent-lab-vae-strong-kl"] > 2 * sigma["latent-lab-vae"], sigma
    assert torch.isfinite(torch.tensor(list(sigma.values()))).all()
