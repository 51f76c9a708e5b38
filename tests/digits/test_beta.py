"""The β family: the weights and their nearest, the active numbers, the loss curves and the
trade-off figure, and fast checks on the shipped family and its precomputed table."""

import numpy as np
import pytest
import torch

from latent_lab.checks import InputError
from latent_lab.digits import beta, figures, maps
from latent_lab.digits.loss import loss_curve


# The weights

def test_the_family_trains_weights_from_0_to_16_a_factor_of_about_4_apart():
    assert beta.weights(2) == [0.0, 0.05, 0.2, 1.0, 4.0, 16.0]
    assert beta.weights(16) == [0.0, 1.0, 4.0, 16.0]


@pytest.mark.parametrize("asked, nearest", [(0, 0.0), (0.02, 0.05), (0.1, 0.05), (0.4, 0.2), (0.5, 1.0),
                                            (2.5, 4.0), (10, 16.0), (16, 16.0)])
def test_the_nearest_trained_weight_is_used(asked, nearest):
    assert beta.nearest_weight(asked) == nearest


@pytest.mark.parametrize("asked", [-0.1, 16.5, float("nan"), "lots", None])
def test_a_weight_out_of_range_gets_a_sentence(asked):
    with pytest.raises(InputError, match="β, the KL weight must be a number from 0 to 16"):
        beta.nearest_weight(asked)


def test_active_numbers_are_those_with_kl_above_the_threshold():
    mu = torch.tensor([[0.0, 1.0, 0.01], [0.0, -1.0, -0.01]])  # (2 digits, 3 numbers)
    sigma = torch.tensor([[1.0, 0.5, 0.999], [1.0, 0.5, 0.999]])
    assert beta.active_dims(mu, sigma) == 1  # only the second carries more than 0.05 nats
    assert beta.active_dims(mu, None) == 1  # an autoencoder: only the second's μ varies


# Curves and figures

def test_the_loss_curve_averages_between_log_spaced_steps():
    losses = np.stack([np.arange(1, 1001, dtype=float), np.ones(1000)], axis=1)  # (1000, 2)
    curve = loss_curve(losses, points=20)
    assert curve["steps"][0] == 1 and curve["steps"][-1] == 1000 and curve["steps"] == sorted(curve["steps"])
    assert curve["recon"][0] == 1 and set(curve["kl"]) == {1.0} and len(curve["recon"]) == len(curve["steps"])
    assert loss_curve(losses, with_kl=False)["kl"] is None and loss_curve([])["steps"] == []


def test_the_figures_draw_an_autoencoder_without_kl():
    curve = loss_curve(np.ones((50, 2)), points=10, with_kl=False)
    assert len(figures.curves_figure(curve, 20, title="t").axes) == 2
    rows = [{"latent_dim": 2, "kl_weight": w, "psnr_db": 14 - w, "kl_nats": None if w == 0 else 6 / (w + 0.1)}
            for w in (0.0, 1.0, 4.0)]
    assert len(figures.tradeoff_figure(rows, 1.0).axes) == 1


# The shipped family

def test_the_shipped_table_is_what_the_models_measure():
    shipped = {row["name"]: row for row in beta.family_table()}
    for name in ("digits-vae-2d-beta-4", "digits-vae-16-beta-16"):
        measured = beta.measure(name)
        assert shipped[name] == pytest.approx({key: value for key, value in measured.items()}, abs=1e-3)


def test_the_beta_view_and_the_family_table():
    picture, figure, summary = beta.beta_view(0.9, "prior")
    assert summary["beta"] == 1.0 and summary["model"] == "digits-vae-2d" and summary["active_threshold_nats"] == 0.05
    assert picture.size == (maps.CELL * maps.CELLS,) * 2 and len(figure.axes) == 1
    rows = {(row["latent_dim"], row["kl_weight"]): row for row in summary["family"]}
    assert len(rows) == 10 and rows[(2, 0.0)]["kl_nats"] is None and rows[(16, 1.0)]["clear_share"] is None
    for dim in (2, 16):
        vaes = [rows[(dim, w)] for w in beta.weights(dim) if w > 0]
        assert [row["kl_nats"] for row in vaes] == sorted((row["kl_nats"] for row in vaes), reverse=True)
        assert vaes[-1]["psnr_db"] < vaes[0]["psnr_db"] - 1  # the top weight blurs
        assert vaes[-1]["kept_label_share"] < 0.5 * vaes[0]["kept_label_share"]  # different digits decode alike
    assert rows[(16, 16.0)]["active_dims"] <= 8 and rows[(2, 16.0)]["kl_nats"] < 1  # numbers switch off
    assert rows[(2, 0.0)]["code_std"] > 3 * rows[(2, 1.0)]["code_std"]
    assert beta.beta_view(0.9, "codes")[2]["span"] != summary["span"]
    with pytest.raises(InputError, match="'prior'"):
        beta.beta_view(1, "everywhere")
