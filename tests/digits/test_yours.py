"""A model trained live, used in the Map and Draw views of the page that trained it."""

import pytest

from latent_lab.checks import InputError
from latent_lab.digits import latents, live, maps, models, samples
from latent_lab.digits.yours import Yours, check_yours, your_digit, your_map


@pytest.fixture(scope="module")
def trained():
    """(2-number VAE, 16-number autoencoder), each trained live for 40 steps."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(live, "STEPS_PER_SECOND", 8)
        return tuple(list(live.train_live(beta, dim, 5, 0))[-1][3] for beta, dim in ((1, 2), (0, 16)))


def a_seven():
    images, labels = models.test_digits()
    return images[labels.tolist().index(7)] / 255.0


def test_your_2_number_model_gets_a_map_drawn_as_the_shipped_ones(trained):
    yours = trained[0]
    plane, picture, summary = your_map(yours, "prior")
    assert plane == maps.Plane() and picture.size == (plane.side, plane.side)
    assert summary["model"] == yours.name and summary["kind"] == "vae" and 0 <= summary["clear_share"] <= 1
    codes_plane, _, codes_summary = your_map(yours, "codes")  # the square around your model's codes
    codes = latents.encode(yours.model, models.test_digits()[0])[0]
    assert all(codes_plane.contains(*code) for code in codes.tolist())
    assert codes_summary["span"] == pytest.approx(codes_plane.span, abs=1e-3) != plane.span
    picture_again = your_map(yours, "prior")[1]
    assert picture_again.tobytes() == picture.tobytes()  # drawn again the same, nothing kept


def test_your_digit_lands_on_your_map_or_in_your_samples(trained):
    vae_2, ae_16 = trained
    marked, summary = your_digit(vae_2, a_seven())
    assert summary["model"] == vae_2.name and len(summary["mu"]) == 2 and len(summary["sigma"]) == 2
    assert marked.tobytes() != your_map(vae_2)[1].tobytes()  # the mark is drawn
    row, numbers = your_digit(ae_16, a_seven(), n_samples=4, sigma_scale=1, seed=0)
    assert numbers["model"] == ae_16.name and numbers["n_samples"] == 4
    assert numbers["pixel_std_mean"] == 0  # an autoencoder has no σ: every sample is μ
    shipped = samples.drawn_digit_view(a_seven(), 4, 1, 0).samples_picture
    assert row.size == shipped.size


def test_without_a_model_of_the_right_kind_you_get_a_sentence(trained):
    with pytest.raises(InputError, match="Train a model first"):
        check_yours(None)
    with pytest.raises(InputError, match="has 16 numbers"):
        your_map(trained[1])
    with pytest.raises(InputError, match="extent"):
        your_map(trained[0], "everything")
    picture, summary = maps.decode_point(trained[0].name, 0.5, -0.5, model=trained[0].model)
    assert summary["model"] == trained[0].name and summary["z"] == [0.5, -0.5]
    assert isinstance(trained[0], Yours)
