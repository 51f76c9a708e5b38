import pytest
import torch

from latent_lab.interpolate import frames, lerp, slerp


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
