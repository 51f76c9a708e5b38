"""What the digits endpoints compute: /digits_models, /digits_encode and /digits_decode.
Each returns JSON-ready values (and pictures); bad input raises an InputError."""

from latent_lab.checks import InputError, round_summary
from latent_lab.digits import classifier, latents, pictures
from latent_lab.digits.framing import frame_digit
from latent_lab.digits.models import check_name, family, load


def digits_models():
    """{"models": [{name, kind, latent_dim, kl_weight}, ...]} in the family's order."""
    return {"models": family()}


def digits_encode(picture, model_name):
    """A PIL picture of a digit -> where `model_name` puts it: {mu, sigma (None for an
    autoencoder), label, confidence (the classifier's, on the framed digit), nearest_labels
    (of the 5 nearest test digits in this latent space), model}."""
    model = load(check_name(model_name))
    ink = frame_digit(picture)  # (28, 28)
    if not ink.any():
        raise InputError("Draw a digit first: the picture has no ink.")
    mu, sigma = latents.encode(model, ink[None])  # (1, d) each
    labels, confidences = classifier.classify(None, ink[None])
    return round_summary({
        "mu": mu[0].tolist(), "sigma": None if sigma is None else sigma[0].tolist(),
        "label": classifier.label_name(labels[0]), "confidence": float(confidences[0]),
        "nearest_labels": latents.nearest_labels(model, mu[0]), "model": model_name})


def digits_decode(model_name, text):
    """JSON text of latent vectors -> (one plain 28x28 decode per vector, in order;
    {labels, confidences, digit_likeness, model})."""
    model = load(check_name(model_name))
    z = latents.parse_latents(text, model.config.latent_dim)  # (N, d)
    inks = latents.decode(model, z)  # (N, 28, 28)
    labels, confidences, clear = classifier.judge(inks)
    return [pictures.to_picture(ink) for ink in inks], round_summary({
        "labels": [classifier.label_name(label) for label in labels], "confidences": confidences.tolist(),
        "digit_likeness": float(clear.mean()), "model": model_name})
