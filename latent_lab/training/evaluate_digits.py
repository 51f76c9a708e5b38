"""Measure the digits family and the classifier on digits no model trained on.

    python -m latent_lab.training.evaluate_digits          # everything
    python -m latent_lab.training.evaluate_digits --beta   # the β family's table only

Prints markdown tables (the model cards quote them): per model, reconstruction of the 1,000
held-out digits, 5-NN label accuracy in its latent space, the digit-likeness of decodes of the
prior, and where hand-drawn sketches land; then the posterior samples of digits-vae-16, the
2-number planes, and the classifier; then the β family on the 500 shipped test digits, which
it also writes to assets/models/digits-beta/ with the 2-number maps (the app's β view reads
them). Deterministic: every draw is seeded.
"""

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from latent_lab.digits import beta, classifier, latents, maps
from latent_lab.digits.framing import frame_digit
from latent_lab.digits.models import BETA_FAMILY, CLASSIFIER, FAMILY, NO_DIGIT, load
from latent_lab.training.mnist import crossfades, load_mnist, no_digit_pictures, sketch_digits, split

PRIOR_COUNT, POSTERIOR_SAMPLES = 1024, 8
VAE_PLANE = maps.Plane((0.0, 0.0), 2.5, 20)  # the 2-number VAE's plane over [-2.5, 2.5]²
HELD_OUT_NEGATIVES_SEED = 999  # training's no-digit pool uses seed 0


def knn_accuracy(model, references, queries, k=5):
    """Share of queries whose k nearest references (by μ) vote for the query's own label.
    references, queries: (images (N, 28, 28), labels (N,))."""
    reference_mu, query_mu = latents.encode(model, references[0])[0], latents.encode(model, queries[0])[0]
    nearest = torch.cdist(query_mu, reference_mu).argsort(dim=1)[:, :k].numpy()  # (Q, k)
    votes = np.array([np.bincount(references[1][row], minlength=10).argmax() for row in nearest])
    return float((votes == queries[1]).mean())


def model_row(name, kind, dim, kl_weight, data):
    """One row of the family's table, and the model's prior digit-likeness."""
    model = load(name)
    pixels = latents.to_pixels(data["held_out"][0])
    mu, sigma = latents.encode(model, pixels)
    with torch.inference_mode():
        logits = model.decode_logits(mu)  # (1000, 28, 28)
    bce = F.binary_cross_entropy_with_logits(logits, pixels, reduction="none").sum(dim=(1, 2)).mean()
    kl = "–" if sigma is None else f"{latents.kl_per_dim(mu, sigma).sum(dim=1).mean():.1f}"
    prior = classifier.digit_likeness(latents.decode(model, maps.prior_z(PRIOR_COUNT, dim)))
    cells = [name, kind, dim, f"{kl_weight:g}", f"{bce:.1f}", f"{latents.psnr_db(torch.sigmoid(logits), pixels):.1f}", kl,
             f"{knn_accuracy(model, data['shipped'], data['queries']):.3f}", f"{prior:.3f}",
             f"{knn_accuracy(model, data['shipped'], data['sketches']):.2f}"]
    return cells, prior


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])


def print_beta_family():
    """The β family's table on the 500 shipped test digits, as the app shows it; written for the app."""
    written = beta.precompute()["family"]
    print(f"\n### The β family (500 shipped test digits; active: KL above {beta.ACTIVE_NATS} nats, "
          f"or μ's variance above {beta.ACTIVE_VARIANCE} for an autoencoder)\n")
    cell = lambda value, form: "–" if value is None else format(value, form)  # noqa: E731
    print(table(["model", "latent", "KL weight", "PSNR (dB)", "KL (nats)", "active", "code std", "clear share (±3)",
                 f"prior digit-likeness ({beta.PRIOR_COUNT} z)", "kept label"],
                [(row["name"], row["latent_dim"], f"{row['kl_weight']:g}", cell(row["psnr_db"], ".2f"),
                  cell(row["kl_nats"], ".2f"), row["active_dims"], cell(row["code_std"], ".2f"),
                  cell(row["clear_share"], ".3f"), cell(row["prior_digit_likeness"], ".3f"),
                  cell(row["kept_label_share"], ".3f")) for row in written]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beta", action="store_true", help="the β family's table only")
    if parser.parse_args().beta:
        print_beta_family()
        return
    measure_family()
    print_beta_family()


def measure_family():
    # 0. The held-out digits (500 shipped + 500 queries) and 30 framed sketches.
    images, labels = load_mnist()
    _, shipped, queries = split(images, labels)
    held = np.concatenate([shipped, queries])
    pictures, sketch_labels = sketch_digits(per_digit=3)
    sketches = np.stack([frame_digit(picture) for picture in pictures])  # (30, 28, 28)
    data = {"held_out": (images[held], labels[held]), "shipped": (images[shipped], labels[shipped]),
            "queries": (images[queries], labels[queries]), "sketches": (sketches, sketch_labels)}

    # 1. Every model: reconstruction, 5-NN, prior samples, sketches.
    rows, prior = [], {}
    for spec in FAMILY + BETA_FAMILY:
        cells, prior[spec[0]] = model_row(*spec, data)
        rows.append(cells)
    print("### The family (1,000 held-out digits; 5-NN: 500 queries among the 500 shipped test digits)\n")
    print(table(["model", "kind", "latent", "KL weight", "BCE (nats/digit)", "PSNR (dB)", "KL (nats)",
                 "5-NN accuracy", f"prior digit-likeness ({PRIOR_COUNT} z)", "sketches 5-NN (30)"], rows))

    # 2. Posterior samples of digits-vae-16 at σ-scale 1: do they vary, do they keep decode(μ)'s label?
    model = load("digits-vae-16")
    mu, sigma = latents.encode(model, images[held])  # (1000, 16)
    noise = torch.randn(POSTERIOR_SAMPLES, *mu.shape, generator=torch.Generator().manual_seed(0))
    samples = latents.decode(model, (mu + sigma * noise).reshape(-1, 16)).reshape(POSTERIOR_SAMPLES, len(mu), 28, 28)
    mu_labels = classifier.classify(None, latents.decode(model, mu))[0]
    sample_labels = classifier.classify(None, samples.reshape(-1, 28, 28))[0].reshape(POSTERIOR_SAMPLES, -1)
    pixel_std, keep = float(samples.std(dim=0).mean()), float((sample_labels == mu_labels).mean())

    # 3. The 2-number planes: the VAE's over [-2.5, 2.5]², the autoencoder's over its own codes and over [-2.5, 2.5]².
    plane_share = lambda name, plane: classifier.digit_likeness(latents.decode(load(name), plane.points()))  # noqa: E731
    ae_codes_plane = maps.plane_for("digits-ae-2d", "codes")
    vae_plane, ae_plane = plane_share("digits-vae-2d", VAE_PLANE), plane_share("digits-ae-2d", ae_codes_plane)

    # 4. The classifier: digits, crossfades and no-digit pictures it never saw, and the sketches.
    predicted = classifier.classify(None, images[held])[0]
    negatives = no_digit_pictures(1000, HELD_OUT_NEGATIVES_SEED)
    fades = crossfades(latents.to_pixels(images[held]), torch.from_numpy(labels[held]), torch.Generator().manual_seed(0))
    no_digit_share = lambda pictures: f"{(classifier.classify(None, pictures)[0] == NO_DIGIT).mean():.3f}"  # noqa: E731

    checks = [
        ("digits-vae-16: prior digit-likeness (bar 0.6, goal 0.85)", f"{prior['digits-vae-16']:.3f}",
         prior["digits-vae-16"] >= 0.6),
        ("digits-ae-16: prior digit-likeness, at least 0.3 below the VAE's", f"{prior['digits-ae-16']:.3f}",
         prior["digits-ae-16"] <= prior["digits-vae-16"] - 0.3),
        ("digits-vae-16: posterior samples (σ-scale 1, 8 each): mean pixel std (bar 0.01)", f"{pixel_std:.4f}",
         pixel_std >= 0.01),
        ("digits-vae-16: posterior samples keeping decode(μ)'s label (bar 0.75)", f"{keep:.3f}", keep >= 0.75),
        ("digits-vae-2d: grid over [-2.5, 2.5]² (20x20) decoding to a clear digit (bar 0.75, goal 0.9)",
         f"{vae_plane:.3f}", vae_plane >= 0.75),
        (f"digits-ae-2d: grid over its own codes' range {[round(v, 1) for v in ae_codes_plane.span]} clear",
         f"{ae_plane:.3f}", None),
        ("digits-ae-2d: grid over [-2.5, 2.5]² clear", f"{plane_share('digits-ae-2d', VAE_PLANE):.3f}", None),
        ("classifier: accuracy on the 1,000 held-out digits", f"{(predicted == labels[held]).mean():.3f}", None),
        ("classifier: held-out digits that are clear digits", f"{classifier.digit_likeness(images[held]):.3f}", None),
        ("classifier: held-out crossfades of two digits called 'no digit'", no_digit_share(fades), None),
        ("classifier: held-out noise, blobs, scribbles, empty called 'no digit'", no_digit_share(negatives), None),
        ("classifier: sketches (30, drawn dark on white 280x280, framed) labelled right",
         f"{(classifier.classify(None, sketches)[0] == sketch_labels).mean():.3f}", None),
    ]
    print("\n### Checks\n")
    print(table(["measure", "value", "bar"],
                [(what, value, "–" if ok is None else ("met" if ok else "MISSED")) for what, value, ok in checks]))
    print(f"\nClassifier size: {sum(p.numel() for p in load(CLASSIFIER).parameters()):,} parameters.")


if __name__ == "__main__":
    main()
