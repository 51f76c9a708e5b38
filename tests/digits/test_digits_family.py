"""The digits family: framing, tiny models built here (save/load, encode/decode, AE vs VAE),
the JSON latent checks, the maps' geometry, and a few fast checks on the shipped weights."""

import json

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageOps

from latent_lab.checks import InputError
from latent_lab.digits import api, classifier, latents, maps, models, samples, traversals, walks
from latent_lab.digits.framing import BOX, CENTRE, frame_digit, stroke_width
from latent_lab.digits.models import DigitClassifier, DigitsAutoencoder, family, load, names
from latent_lab.training.mnist import sketch_digits


def tiny(kind, latent_dim=2, seed=0):
    torch.manual_seed(seed)
    return DigitsAutoencoder(kind=kind, latent_dim=latent_dim, kl_weight=1.0 if kind == "vae" else 0.0,
                             channels=4, hidden=8).eval().requires_grad_(False)


def drawn_seven(size=(300, 200), ink="black", paper="white", mode="RGB", width=14):
    picture = Image.new(mode, size, paper)
    ImageDraw.Draw(picture).line([(100, 40), (190, 40), (130, 170)], fill=ink, width=width)
    return picture


def centre_of_mass(ink):
    ys, xs = np.indices(ink.shape)
    return (ys * ink).sum() / ink.sum(), (xs * ink).sum() / ink.sum()


def box_of(ink):
    rows, cols = np.nonzero(ink)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


# Framing

def test_a_drawn_digit_is_framed_like_mnist():
    ink = frame_digit(drawn_seven())
    assert ink.shape == (28, 28) and ink.dtype == np.float32
    assert ink.min() == 0 and ink.max() == pytest.approx(1.0)
    assert max(box_of(ink)) == BOX  # its longest side fills the 20x20 box
    np.testing.assert_allclose(centre_of_mass(ink), (CENTRE, CENTRE), atol=0.5)
    assert np.median(ink) == 0 and ink[:3].sum() == 0  # light ink on black; a 7 sits low, as in MNIST


def test_light_on_dark_and_transparent_pictures_frame_the_same():
    dark_on_white = frame_digit(drawn_seven())
    light_on_black = frame_digit(ImageOps.invert(drawn_seven()))
    on_transparent = frame_digit(drawn_seven(ink=(0, 0, 0, 255), paper=(0, 0, 0, 0), mode="RGBA"))
    light_on_transparent = frame_digit(drawn_seven(ink=(255, 255, 255, 255), paper=(255, 255, 255, 0), mode="RGBA"))
    for other in (light_on_black, on_transparent, light_on_transparent):
        np.testing.assert_allclose(other, dark_on_white, atol=0.02)


def test_an_empty_canvas_frames_to_zeros():
    assert not frame_digit(Image.new("RGB", (280, 280), "white")).any()
    assert not frame_digit(Image.new("RGBA", (280, 280), (0, 0, 0, 0))).any()
    assert not frame_digit(Image.new("L", (5, 5), 128)).any()


def test_a_thin_pen_gets_mnist_stroke_width():
    thin, thick = frame_digit(drawn_seven(width=2)), frame_digit(drawn_seven(width=14))
    assert 2.0 <= stroke_width(thin) <= 4.0  # MNIST's median is 2.8 px
    assert abs(stroke_width(thin) - stroke_width(thick)) < 1.0


# Tiny models

def test_save_and_load_round_trip(tmp_path):
    model = tiny("vae", latent_dim=3)
    model.save_pretrained(tmp_path / "vae", safe_serialization=True)
    loaded = DigitsAutoencoder.from_pretrained(tmp_path / "vae", use_safetensors=True).eval()
    assert (loaded.config.kind, loaded.config.latent_dim, loaded.config.kl_weight) == ("vae", 3, 1.0)
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(latents.decode(loaded, z), latents.decode(model, z))
    judge = DigitClassifier(channels=(4, 4, 4), hidden=8).eval()
    judge.save_pretrained(tmp_path / "classifier", safe_serialization=True)
    again = DigitClassifier.from_pretrained(tmp_path / "classifier", use_safetensors=True).eval()
    torch.testing.assert_close(again(torch.zeros(2, 28, 28)), judge(torch.zeros(2, 28, 28)))


def test_encode_and_decode_shapes_and_ranges():
    digits = models.test_digits()[0][:6]  # uint8
    vae, ae = tiny("vae", 5), tiny("ae", 5)
    mu, sigma = latents.encode(vae, digits)
    assert mu.shape == sigma.shape == (6, 5) and (sigma > 0).all()
    mu, sigma = latents.encode(ae, digits)
    assert mu.shape == (6, 5) and sigma is None  # an autoencoder has no σ
    inks = latents.decode(vae, torch.randn(1024, 5, generator=torch.Generator().manual_seed(0)))
    assert inks.shape == (1024, 28, 28) and 0 <= inks.min() and inks.max() <= 1
    as_floats = digits.astype(np.float32) / 255
    for same in (as_floats, torch.tensor(digits), torch.from_numpy(as_floats)):  # uint8 or [0, 1], numpy or torch
        torch.testing.assert_close(latents.encode(vae, same)[0], latents.encode(vae, digits)[0])


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="'ae' or 'vae'"):
        DigitsAutoencoder(kind="gan")


def test_nearest_labels_of_a_test_digit_start_with_its_own():
    model = tiny("vae", 4)
    images, labels = models.test_digits()
    mu = latents.encode(model, images[7:8])[0][0]
    nearest = latents.nearest_labels(model, mu)
    assert len(nearest) == 5 and nearest[0] == labels[7]  # itself, at distance 0


# Latents typed as JSON

def test_parse_latents_accepts_a_list_of_vectors():
    z = latents.parse_latents("[[0.5, -1], [0, 2e0]]", 2)
    assert z.dtype == torch.float32 and z.tolist() == [[0.5, -1.0], [0.0, 2.0]]


@pytest.mark.parametrize("text", [
    "", "   ", "not json", "{\"z\": [1, 2]}", "[]", "[1, 2]", "[[1]]", "[[1, 2, 3]]", "[[1, \"2\"]]",
    "[[1, true]]", "[[NaN, 0]]", "[[Infinity, 0]]", "[[1e400, 0]]", "[[1e6, 0]]", "[[1, null]]",
    json.dumps([[0, 0]] * 1025), "[" * 100_000, "[[0, 0]]" + " " * 1_000_000, None])
def test_parse_latents_refuses_with_one_sentence(text):
    with pytest.raises(InputError) as refusal:
        latents.parse_latents(text, 2)
    message = str(refusal.value)
    assert "2 numbers" in message and message.endswith(".") and len(message) < 300


def test_an_unknown_model_name_lists_the_known_ones():
    with pytest.raises(InputError) as refusal:
        api.digits_decode("digits-gan", "[[0, 0]]")
    assert all(name in str(refusal.value) for name in names())


# Maps' geometry

def test_plane_pixels_and_latent_points_round_trip():
    plane = maps.Plane((1.0, -2.0), 2.5, 10)
    for point in [(1.0, -2.0), (-1.4, 0.3), (3.5, -4.5)]:
        np.testing.assert_allclose(plane.to_latent(*plane.to_pixel(*point)), point, atol=1e-9)
    assert plane.to_pixel(1.0, -2.0) == (plane.side / 2, plane.side / 2)
    points = plane.points()
    np.testing.assert_allclose(points[0], [-1.25, 0.25])  # top left: z1 low, z2 high
    np.testing.assert_allclose(points[-1], [3.25, -4.25])


# The shipped weights

def test_the_family_lists_its_configs():
    assert [row["name"] for row in api.digits_models()["models"]] == names(beta=True)
    for row in family():
        config = load(row["name"]).config
        assert (config.kind, config.latent_dim, config.kl_weight) == (row["kind"], row["latent_dim"], row["kl_weight"])


def test_the_shipped_classifier_knows_the_shipped_test_digits():
    images, labels = models.test_digits()
    assert images.shape == (500, 28, 28) and images.dtype == np.uint8 and np.bincount(labels).tolist() == [50] * 10
    predicted, _ = classifier.classify(None, images)
    assert (predicted == labels).mean() >= 0.9


def test_prior_samples_are_seeded_and_the_vae_makes_more_digits():
    picture, summary = samples.prior_samples_view(n_samples=6, seed=3)
    again, same = samples.prior_samples_view(n_samples=6, seed=3)
    assert summary == same and picture.tobytes() == again.tobytes()
    assert samples.prior_samples_view(n_samples=6, seed=4)[1] != summary
    likeness = {name: row["digit_likeness_256"] for name, row in summary["models"].items()}
    assert likeness["digits-vae-16"] > likeness["digits-ae-16"]


def test_a_sketched_digit_through_the_api():
    pictures, sketch_labels = sketch_digits(per_digit=1)
    summary = api.digits_encode(pictures[7], "digits-vae-16")
    assert len(summary["mu"]) == len(summary["sigma"]) == 16 and summary["label"] == sketch_labels[7] == 7
    assert len(summary["nearest_labels"]) == 5
    assert api.digits_encode(pictures[7], "digits-ae-2d")["sigma"] is None
    with pytest.raises(InputError, match="Draw a digit first"):
        api.digits_encode(Image.new("RGB", (280, 280), "white"), "digits-vae-16")
    decodes, decoded = api.digits_decode("digits-vae-16", json.dumps([summary["mu"], [0.0] * 16, [3.0] * 16]))
    assert len(decodes) == 3 and decodes[0].size == (28, 28) and decodes[0].mode == "L"
    assert decoded["labels"][0] == 7 and len(decoded["confidences"]) == 3 and 0 <= decoded["digit_likeness"] <= 1


def test_the_views_of_a_drawn_digit():
    ink = frame_digit(sketch_digits(per_digit=1)[0][3])
    view = samples.drawn_digit_view(ink, n_samples=4, seed=1)
    assert set(view.maps.pictures) == set(names(latent_dim=2)) and len(view.samples) == 4
    assert view.maps.pictures["digits-vae-2d"].tobytes() != maps.map_view().pictures["digits-vae-2d"].tobytes()
    assert view.summary["digits-ae-2d"]["sigma"] is None and len(view.summary["digits-vae-2d"]["sigma"]) == 2
    assert view.summary == samples.drawn_digit_view(ink, n_samples=4, seed=1).summary
    assert samples.drawn_digit_view(ink, n_samples=4, sigma_scale=0).summary["pixel_std_mean"] == 0
    grid, figure, walked = walks.walk_view(ink, frame_digit(sketch_digits(per_digit=1)[0][8]), steps=5)
    assert walked["models"]["digits-vae-16"]["slerp"]["labels"][0] == 3 and len(figure.axes) == 1
    images, labels = models.test_digits()
    uint8_walk = walks.walk_view(images[labels == 2][0], images[labels == 7][0], steps=5)[2]["models"]["digits-vae-16"]
    assert uint8_walk["lerp"]["labels"][0] == 2 and uint8_walk["lerp"]["labels"][-1] == 7
    with pytest.raises(InputError, match="Draw a digit first"):
        walks.walk_view(np.zeros((28, 28)), ink)
    with pytest.raises(InputError, match="28x28"):
        traversals.traversal_view(ink * 3)
    grid, traversed = traversals.traversal_view(ink, steps=5)
    assert sorted(traversed["order"]) == list(range(16)) and grid.size[1] == 16 * (56 + 16)
    kl = traversed["kl_per_dim_test_mean"]
    assert [kl[i] for i in traversed["order"]] == sorted(kl, reverse=True)
