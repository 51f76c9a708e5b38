"""latent_lab/sizing.py: the working size follows the decode's measured cost, the host's setting
wins, and the embedded VAE keeps 512 px; Three ways, with twice the work, works smaller where
the VAE is slow."""

from PIL import Image

from latent_lab import sizing
from tests.conftest import make_tiny_vae


def test_the_largest_size_whose_decode_fits_the_budget_is_chosen():
    # The budget at 512² is its edge: 512 fits; at twice that cost per pixel, 512² would take two budgets.
    per_pixel = sizing.DECODE_SECONDS / 512**2
    assert sizing.choose_side(per_pixel).side == 512
    assert sizing.choose_side(2 * per_pixel).side == 320  # 320² = 0.39 of 512²; 384² = 0.56 would take 1.1x the budget
    slowest = sizing.choose_side(100 * per_pixel)
    assert slowest.side == sizing.SIDES[-1] and "LATENT_LAB_MAX_SIDE" in slowest.reason


def test_three_ways_works_where_two_decodes_fit_the_budget_and_the_reason_says_so():
    per_pixel = sizing.DECODE_SECONDS / 512**2
    fast = sizing.choose_side(per_pixel / 2)  # two decodes at 512² take the budget
    assert fast.side == fast.three_ways_side == 512 and "Three ways" not in fast.reason
    slow = sizing.choose_side(per_pixel)
    assert (slow.side, slow.three_ways_side) == (512, 320)  # two decodes at 320²: 0.78x the budget; at 384²: 1.1x
    assert "Three ways, with twice the work, at 320 px" in slow.reason
    assert sizing.choose_side(100 * per_pixel).three_ways_side == sizing.SIDES[-1]


def test_the_hosts_setting_and_the_embedded_size_win_over_the_measure():
    vae = make_tiny_vae()
    hosts = sizing.working_size(vae, setting=1024)
    assert hosts.side == hosts.three_ways_side == 1024
    embedded = sizing.working_size(vae, embedded=True)
    assert embedded.side == embedded.three_ways_side == sizing.EMBEDDED_SIDE


def test_a_vae_is_timed_once_and_gets_a_size_with_its_reason():
    vae = make_tiny_vae()
    first = sizing.working_size(vae)
    assert first.side in sizing.SIDES and f"{first.side} px" in first.reason
    assert sizing.working_size(vae) is first  # measured once per model


def test_the_three_ways_button_works_at_the_three_ways_size(two_files, monkeypatch):
    from ui import common, interpolate

    monkeypatch.setattr(common, "working_size", lambda name=None: sizing.WorkingSize(512, "512 px", 48))
    *_, (rows, _plot, summary) = interpolate.on_three_ways(*map(str, two_files), 3)
    assert summary["size"] == [48, 32]  # A, 96x64, fitted to 48 px
    assert Image.open(rows[0][0]).height == 32  # a strip of 3 frames, 48x32 each
