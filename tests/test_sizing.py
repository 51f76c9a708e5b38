"""latent_lab/sizing.py: the working size follows the decode's measured cost, the host's setting
wins, and the embedded VAE keeps 512 px."""

from latent_lab import sizing
from tests.conftest import make_tiny_vae


def test_the_largest_size_whose_decode_fits_the_budget_is_chosen():
    # 1 s at 512² is the budget's edge: 512 fits; twice that cost per pixel, 512² would take 2 s.
    per_pixel = sizing.DECODE_SECONDS / 512**2
    assert sizing.choose_side(per_pixel).side == 512
    assert sizing.choose_side(2 * per_pixel).side == 320  # 320² = 0.39 of 512²; 384² = 0.56 would take 1.1 s
    slowest = sizing.choose_side(100 * per_pixel)
    assert slowest.side == sizing.SIDES[-1] and "LATENT_LAB_MAX_SIDE" in slowest.reason


def test_the_hosts_setting_and_the_embedded_size_win_over_the_measure():
    vae = make_tiny_vae()
    assert sizing.working_size(vae, setting=1024).side == 1024
    assert sizing.working_size(vae, embedded=True).side == sizing.EMBEDDED_SIDE


def test_a_vae_is_timed_once_and_gets_a_size_with_its_reason():
    vae = make_tiny_vae()
    first = sizing.working_size(vae)
    assert first.side in sizing.SIDES and f"{first.side} px" in first.reason
    assert sizing.working_size(vae) is first  # measured once per model
