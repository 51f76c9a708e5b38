"""The β family, training replayed and training live through the public API: /digits_models,
/digits_beta, /digits_training and /digits_train, with the numbers behind each help text."""

from types import SimpleNamespace

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from latent_lab.digits import beta, models

TOP_2D = "digits-vae-2d-beta-16"


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def ten_digits(tmp_path_factory):
    """The first test digit of each kind, as 280x280 pictures."""
    folder = tmp_path_factory.mktemp("ten")
    images, labels = models.test_digits()
    paths = []
    for digit in range(10):
        path = folder / f"{digit}.png"
        Image.fromarray(images[labels.tolist().index(digit)]).resize((280, 280), Image.BILINEAR).save(path)
        paths.append(str(path))
    return paths


def test_the_beta_family_is_listed_with_its_weights(client):
    listed = {m["name"]: m for m in client.predict(api_name="/digits_models")["models"]}
    weights = {(m["latent_dim"], m["kl_weight"]) for m in listed.values()}
    assert {(2, w) for w in (0, 0.05, 0.2, 1, 4, 16)} <= weights and {(16, w) for w in (0, 1, 4, 16)} <= weights
    assert listed[TOP_2D]["kind"] == "vae"


def test_the_beta_slider_picks_the_nearest_weight_and_the_trends_hold(client):
    beta_map, plot, summary = client.predict(1.3, "prior", api_name="/digits_beta")
    assert summary["beta"] == 1 and summary["model"] == "digits-vae-2d"
    assert Image.open(beta_map).size == (560, 560) and plot is not None
    rows = {(row["latent_dim"], row["kl_weight"]): row for row in summary["family"]}
    keys = {"name", "latent_dim", "kl_weight", "psnr_db", "kl_nats", "active_dims", "code_std", "clear_share",
            "prior_digit_likeness"}
    assert all(keys <= set(row) for row in rows.values())
    two = [rows[(2, w)] for w in beta.weights(2)]
    assert two[0]["code_std"] > 3 * rows[(2, 1)]["code_std"]  # β = 0 spreads far
    assert [row["kl_nats"] for row in two[1:]] == sorted((row["kl_nats"] for row in two[1:]), reverse=True)
    assert rows[(2, 16)]["psnr_db"] < rows[(2, 1)]["psnr_db"] - 1 and rows[(2, 16)]["kl_nats"] < 1  # blur
    assert rows[(16, 16)]["active_dims"] <= 8 < rows[(16, 1)]["active_dims"]  # numbers switch off
    assert rows[(16, 1)]["prior_digit_likeness"] > rows[(16, 0)]["prior_digit_likeness"] + 0.2
    top_map = client.predict(16, "prior", api_name="/digits_beta")[0]
    assert not np.array_equal(np.asarray(Image.open(top_map)), np.asarray(Image.open(beta_map)))


def test_at_the_top_weight_ten_different_digits_decode_alike(client, ten_digits):
    labels = []
    for name in ("digits-vae-2d", TOP_2D):
        mus = [client.predict(handle_file(path), name, api_name="/digits_encode")["mu"] for path in ten_digits]
        decoded = client.predict(name, str(mus), api_name="/digits_decode")[1]
        labels.append(len(set(decoded["labels"])))
    assert labels[1] < labels[0] and labels[1] <= 4


@pytest.mark.parametrize("inputs, message", [((20, "prior"), "from 0 to 16|maximum value 16"), ((1, "everywhere"), "not one of")])
def test_bad_beta_requests_get_a_sentence(client, inputs, message):
    with pytest.raises(Exception, match=message):
        client.predict(*inputs, api_name="/digits_beta")


def test_training_replayed_scrubs_through_snapshots(client):
    first_map, _plot, first = client.predict("digits-vae-2d", 0, api_name="/digits_training")
    snapshots = first["snapshots"]
    assert first["model"] == "digits-vae-2d" and first["snapshot"] == 0 and len(snapshots) >= 8
    assert all({"step", "recon", "kl", "clear_share"} <= set(row) for row in snapshots)
    assert snapshots[-1]["clear_share"] > snapshots[0]["clear_share"] + 0.5
    last_map, _plot, last = client.predict("digits-vae-2d", len(snapshots) - 1, api_name="/digits_training")
    assert last["step"] == snapshots[-1]["step"]
    assert not np.array_equal(np.asarray(Image.open(first_map)), np.asarray(Image.open(last_map)))
    ae = client.predict("digits-ae-2d", 3, api_name="/digits_training")[2]
    assert ae["snapshots"][3]["kl"] is None or ae["snapshots"][3]["kl"] == 0
    with pytest.raises(Exception, match="snapshot|maximum value"):
        client.predict("digits-vae-2d", 99, api_name="/digits_training")


def test_a_model_trained_live_streams_and_ends_with_a_map(client):
    job = client.submit(1, 2, 5, 0, api_name="/digits_train")
    final = job.result()
    updates = job.outputs()
    assert len(updates) >= 2 and not updates[0][2]["done"]
    picture, _plot, summary = final
    assert summary["done"] and summary["steps"] == summary["total_steps"] and summary["latent_dim"] == 2
    assert {"beta", "latent_dim", "seconds", "steps", "recon", "kl", "code_std", "clear_share"} <= set(summary)
    assert Image.open(picture).size[0] > 0


@pytest.mark.parametrize("inputs, message", [((1, 2, 100, 0), "seconds|maximum value 60"), ((20, 2, 5, 0), "β|maximum value 16"),
                                             ((1, 3, 5, 0), "not one of")])
def test_bad_live_requests_get_a_sentence(client, inputs, message):
    with pytest.raises(Exception, match=message):
        client.predict(*inputs, api_name="/digits_train")


def test_one_live_training_per_page_at_a_time(monkeypatch):
    import gradio as gr
    from latent_lab.digits import live
    from ui.digits import training

    monkeypatch.setattr(live, "STEPS_PER_SECOND", 2)
    page, other = SimpleNamespace(session_hash="page-a"), SimpleNamespace(session_hash="page-b")
    first = training.on_train(1, 2, 5, 0, page)
    next(first)  # training now
    with pytest.raises(gr.Error, match="already training"):
        next(training.on_train(1, 2, 5, 0, page))
    assert next(training.on_train(1, 2, 5, 0, other)) is not None  # another page may train
    first.close()  # the page went away, or pressed Stop
    assert next(training.on_train(1, 2, 5, 0, page)) is not None
