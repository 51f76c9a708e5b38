"""latent_lab/cache.py: posteriors and reconstructions kept by picture content."""

import torch

from latent_lab import cache, vae as vae_ops
from tests.conftest import photo_like


def test_posterior_cache_reuses_by_content(tiny_vae, tmp_path):
    posteriors = cache.PosteriorCache(size=2)
    pictures = [photo_like(64, 64, seed=s) for s in range(3)]
    first = posteriors.get(tiny_vae, pictures[0])
    assert posteriors.get(tiny_vae, pictures[0].copy()) is first
    reconstruction = posteriors.reconstruction(tiny_vae, pictures[0])
    assert posteriors.reconstruction(tiny_vae, pictures[0].copy()) is reconstruction  # decoded once
    assert torch.allclose(reconstruction, vae_ops.decode(tiny_vae, first.mean)[0], atol=1e-5)
    posteriors.get(tiny_vae, pictures[1]), posteriors.get(tiny_vae, pictures[2])
    assert len(posteriors.entries) == 2
    assert posteriors.get(tiny_vae, pictures[0]) is not first  # evicted, encoded again
