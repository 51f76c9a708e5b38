"""latent_lab/checks.py: numbers from API callers are checked with the range in the sentence."""

import pytest

from latent_lab.checks import InputError, check_number


@pytest.mark.parametrize("value, ok", [(3, 3), ("4", 4), (2.0, 2)])
def test_check_number_accepts_whole_numbers_in_range(value, ok):
    assert check_number(value, "Steps", 2, 32, integer=True) == ok


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, 33, 2.5, "many", None])
def test_check_number_refuses_with_the_range(value):
    with pytest.raises(InputError, match="Steps must be a whole number from 2 to 32"):
        check_number(value, "Steps", 2, 32, integer=True)
