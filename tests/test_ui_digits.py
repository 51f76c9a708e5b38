"""The Digits tab through the public API, on the shipped digits family: the numbers behind each
claim its help texts make."""

import json

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw

FAMILY = ["digits-ae-2d", "digits-vae-2d", "digits-ae-16", "digits-vae-16", "digits-vae-16-strong"]


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def seven(tmp_path_factory):
    """A 7 drawn as people draw it: a dark pen on a white canvas."""
    path = tmp_path_factory.mktemp("drawn") / "seven.png"
    picture = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(picture).line([(60, 50), (220, 50), (120, 240)], fill="black", width=18, joint="curve")
    picture.save(path)
    return str(path)


def test_the_family_is_listed(client):
    models = client.predict(api_name="/digits_models")["models"]
    assert [m["name"] for m in models][:len(FAMILY)] == FAMILY  # the β family's other weights follow
    assert [m["kind"] for m in models][:5] == ["ae", "vae", "ae", "vae", "vae"]
    assert [m["latent_dim"] for m in models][:5] == [2, 2, 16, 16, 16]
    assert models[0]["kl_weight"] == 0 and models[4]["kl_weight"] >= 4


@pytest.mark.parametrize("name, dim, has_sigma", [("digits-ae-2d", 2, False), ("digits-vae-16", 16, True)])
def test_a_drawn_digit_is_encoded_and_lands_among_its_kind(client, seven, name, dim, has_sigma):
    summary = client.predict(handle_file(seven), name, api_name="/digits_encode")
    assert len(summary["mu"]) == dim and (summary["sigma"] is not None) == has_sigma
    assert summary["label"] == 7 and summary["confidence"] > 0.5 and summary["model"] == name
    assert len(summary["nearest_labels"]) == 5
    if dim == 16:
        assert summary["nearest_labels"].count(7) >= 3


def test_latents_decode_in_order_as_plain_pictures(client):
    gallery, summary = client.predict("digits-vae-2d", "[[0, 0], [1.5, -0.5], [-2, 1]]", api_name="/digits_decode")
    assert len(gallery) == len(summary["labels"]) == len(summary["confidences"]) == 3
    assert all(Image.open(item["image"]).size == (28, 28) for item in gallery)
    again, _ = client.predict("digits-vae-2d", "[[1.5, -0.5]]", api_name="/digits_decode")
    assert np.array_equal(np.asarray(Image.open(again[0]["image"])), np.asarray(Image.open(gallery[1]["image"])))
    assert 0 <= summary["digit_likeness"] <= 1


@pytest.mark.parametrize("model, text, message", [
    ("digits-vae-2d", "not json", "JSON"),
    ("digits-vae-2d", "[[0, 0, 0]]", "2 numbers"),
    ("digits-vae-2d", "[[NaN, 0]]", "JSON|finite"),
    ("digits-vae-2d", json.dumps([[0, 0]] * 1025), "1,024|1024"),
    ("digits-nope", "[[0, 0]]", "not one of the choices|Unknown digits model"),
])
def test_bad_latents_get_a_sentence(client, model, text, message):
    with pytest.raises(Exception, match=message):
        client.predict(model, text, api_name="/digits_decode")


def test_the_maps_show_the_aes_spread_codes_and_the_vaes_filled_plane(client):
    _ae_map, _vae_map, _plot, summary = client.predict("prior", api_name="/digits_map")
    ae, vae = summary["digits-ae-2d"], summary["digits-vae-2d"]
    assert min(ae["code_std"]) > 2 * max(vae["code_std"])  # the AE's codes spread far beyond N(0, I)
    assert vae["clear_share"] >= 0.75
    assert sum(1 for count in list(vae["prior_label_mix"].values())[:10] if count) > \
        sum(1 for count in list(ae["prior_label_mix"].values())[:10] if count)  # more kinds of digit


def test_samples_of_a_drawn_digit_vary_and_mostly_keep_it(client, seven):
    ae_map, vae_map, row, gallery, summary = client.predict(None, handle_file(seven), 8, 1.0, 0,
                                                            api_name="/digits_draw")
    assert summary["label"] == 7 and len(gallery) == 8 and summary["n_samples"] == 8
    assert summary["pixel_std_mean"] >= 0.01 and summary["keep_label_share"] >= 0.75
    assert summary["digits-vae-2d"]["sigma"] is not None and summary["digits-ae-2d"]["sigma"] is None
    wide = client.predict(None, handle_file(seven), 8, 3.0, 0, api_name="/digits_draw")[-1]
    assert wide["pixel_std_mean"] > summary["pixel_std_mean"]


def test_random_latents_give_digits_only_for_the_vae(client):
    _grid, summary = client.predict(8, 0, api_name="/digits_prior")
    likeness = {name: m["digit_likeness_256"] for name, m in summary["models"].items()}
    assert likeness["digits-vae-16"] >= likeness["digits-ae-16"] + 0.2


def test_walks_and_traversals(client):
    _grid, _plot, walk = client.predict(None, None, 1, 7, 5, api_name="/digits_walk")
    assert set(walk["models"]) == {"digits-ae-16", "digits-vae-16", "digits-vae-16-strong"}
    assert all(len(m[method]["labels"]) == 5 for m in walk["models"].values() for method in ("lerp", "slerp"))
    _grid, traversal = client.predict(None, 3, 5, 3.0, api_name="/digits_traverse")
    assert len(traversal["order"]) == 16 and traversal["values"] == [-3.0, -1.5, 0.0, 1.5, 3.0]
    kl = traversal["kl_per_dim_test_mean"]
    assert [kl[i] for i in traversal["order"]] == sorted(kl, reverse=True)
