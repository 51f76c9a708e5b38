"""latent_lab/paths.py (lerp and slerp) and latent_lab/photos/interpolate.py (the walks) between two pictures on a tiny VAE."""

import numpy as np
import pytest
import torch

from latent_lab import cache, imaging
from latent_lab.photos import encode, interpolate
from latent_lab.checks import InputError
from latent_lab.imaging import ImageError
from latent_lab.paths import frames, lerp, slerp
from tests.conftest import SOURCE, close, pixels


@pytest.fixture
def pair():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(4, 8, 8, generator=generator), torch.randn(4, 8, 8, generator=generator)


@pytest.mark.parametrize("method", [lerp, slerp])
def test_ends_are_exact(pair, method):
    a, b = pair
    path = method(a, b, torch.linspace(0, 1, 5))
    assert path.shape == (5, 4, 8, 8)
    assert torch.equal(path[0], a) and torch.equal(path[-1], b)


def test_lerp_midpoint_is_the_average(pair):
    a, b = pair
    assert torch.allclose(lerp(a, b, 0.5)[0], (a + b) / 2)


def test_slerp_keeps_the_norm_where_lerp_sags(pair):
    a, b = pair
    b = b * a.norm() / b.norm()  # equal norms
    t = torch.linspace(0, 1, 9)
    slerp_norms = slerp(a, b, t).flatten(1).norm(dim=1)
    lerp_norms = lerp(a, b, t).flatten(1).norm(dim=1)
    assert torch.allclose(slerp_norms, a.norm().expand(9), rtol=1e-4)
    assert lerp_norms[4] < 0.8 * a.norm()  # nearly orthogonal: the midpoint is ~0.71 as long


def test_slerp_norm_moves_linearly_between_different_norms(pair):
    a, b = pair
    b = 3 * b
    norms = slerp(a, b, torch.tensor([0.5]))[0].norm()
    assert norms == pytest.approx(((a.norm() + b.norm()) / 2).item(), rel=1e-4)


def test_slerp_falls_back_to_lerp_for_parallel_and_antipodal(pair):
    a, _ = pair
    t = torch.linspace(0, 1, 4)
    assert torch.allclose(slerp(a, 2 * a, t), lerp(a, 2 * a, t))
    assert torch.allclose(slerp(a, -a, t), lerp(a, -a, t))
    assert torch.isfinite(slerp(a, torch.zeros_like(a), t)).all()


def test_frames_counts_and_refuses_bad_input(pair):
    a, b = pair
    assert frames(a, b, 7, "lerp").shape == (7, 4, 8, 8)
    with pytest.raises(ValueError, match="lerp"):
        frames(a, b, 4, "cubic")
    with pytest.raises(ValueError, match="at least 2"):
        frames(a, b, 1)


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_ends_are_the_reconstructions(tiny_vae, two_files, method):
    a, b = two_files
    result = interpolate.interpolate_view(tiny_vae, SOURCE, a, b, steps=5, method=method)
    assert len(result.frames) == 5 and len(result.summary["latent_norms"]) == 5
    assert result.frames[-1].size == (96, 64)  # B takes A's size
    reconstruction_a = encode.encode_view(tiny_vae, SOURCE, a).reconstruction
    # equal up to float rounding: a batch of frames is decoded at once, the reconstruction alone
    difference = np.abs(np.asarray(result.frames[0], np.int16) - np.asarray(reconstruction_a, np.int16))
    assert difference.max() <= 2 and difference.mean() < 0.05
    assert result.summary["method"] == method and result.summary["steps"] == 5


def test_interpolation_refuses_unknown_methods_and_missing_pictures(tiny_vae, two_files):
    a, b = two_files
    with pytest.raises(InputError, match="lerp"):
        interpolate.interpolate_view(tiny_vae, SOURCE, a, b, steps=4, method="bezier")
    with pytest.raises(ImageError, match="No picture"):
        interpolate.interpolate_view(tiny_vae, SOURCE, a, None, steps=4)


def test_three_ways_ends_norms_and_crossfade(tiny_vae, files):
    a, b, _ = files
    result = interpolate.three_ways_view(tiny_vae, SOURCE, a, b, steps=4)
    assert set(result.frames) == {"lerp", "slerp", "crossfade"}
    assert all(len(frames) == 4 and frames[0].size == (96, 64) for frames in result.frames.values())
    assert result.summary["size"] == [96, 64]
    image_a = cache.prepare(tiny_vae, a, 512)
    image_b = cache.prepare(tiny_vae, b, 512, size=image_a.size)
    ends = [imaging.to_pil(cache.posteriors.reconstruction(tiny_vae, image)) for image in (image_a, image_b)]
    crossfade = result.frames["crossfade"]  # a crossfade of the two reconstructions
    assert np.array_equal(pixels(crossfade[0]), pixels(ends[0])) and np.array_equal(pixels(crossfade[-1]), pixels(ends[1]))
    reconstruction_a = encode.encode_view(tiny_vae, SOURCE, a).reconstruction
    assert close(result.frames["lerp"][0], reconstruction_a) and close(result.frames["slerp"][0], reconstruction_a)
    distance = result.summary["crossfade_psnr_db"]
    assert set(distance) == {"lerp", "slerp"} and all(d[0] is None and d[-1] is None for d in distance.values())
    assert all(0 < value < 100 for d in distance.values() for value in d[1:-1])
    norms = result.summary["latent_norms"]
    assert result.summary["methods"] == ["lerp", "slerp", "crossfade"] and set(norms) == set(result.summary["methods"])
    assert norms["lerp"][0] == norms["slerp"][0] == norms["crossfade"][0]
    assert norms["lerp"][-1] == norms["slerp"][-1] == norms["crossfade"][-1]
    assert norms["lerp"][1] < norms["slerp"][1]  # the straight line sags inside the sphere
    assert len(result.rows) == 3 and result.rows[2][1].startswith("crossfade")
    ends_only = interpolate.three_ways_view(tiny_vae, SOURCE, a, b, steps=2)  # the fewest frames accepted
    assert all(len(pictures) == 2 for pictures in ends_only.frames.values())
