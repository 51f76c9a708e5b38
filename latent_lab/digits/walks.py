"""Walks between two digits through each 16-number model: from μ of one to μ of the other, by
lerp and by slerp, every frame decoded and labelled, with how clearly it is a digit."""

import torch

from latent_lab import plots
from latent_lab.checks import check_number, round_summary
from latent_lab.digits import classifier, latents, pictures
from latent_lab.digits.models import load, names
from latent_lab.digits.samples import check_ink
from latent_lab.paths import lerp, slerp

METHODS = {"lerp": lerp, "slerp": slerp}
MIN_STEPS, MAX_STEPS = 3, 16


def walk_view(ink_a, ink_b, steps=9):
    """(grid picture: a row per model and method, curves Figure, summary) of the walks from the
    framed digit a to b. A frame's digit probability is that of its likeliest digit 0-9."""
    ends = torch.stack([check_ink(ink_a), check_ink(ink_b)])  # (2, 28, 28)
    steps = check_number(steps, "The number of steps", MIN_STEPS, MAX_STEPS, integer=True)
    t = torch.linspace(0, 1, steps)
    figure = plots.new_figure(7.5, 3.8)
    ax = figure.subplots()
    rows, captions, titles, summary = [], [], [], {"steps": steps, "models": {}}
    for colour, name in zip(("tab:blue", "tab:orange", "tab:green"), names(latent_dim=16)):
        model = load(name)
        mu = latents.encode(model, ends)[0]  # (2, 16)
        summary["models"][name] = {}
        for method, path_of in METHODS.items():
            path = path_of(mu[0], mu[1], t)  # (steps, 16)
            inks = latents.decode(model, path)  # (steps, 28, 28)
            labels, _, row_captions, clear = pictures.labelled(inks)
            probability = classifier.digit_probability(inks)
            rows.append(inks)
            captions.append(row_captions)
            titles.append(f"{name}\n{method}")
            summary["models"][name][method] = {
                "labels": [classifier.label_name(label) for label in labels],
                "digit_probability": probability.tolist(), "digit_likeness": float(clear.mean()),
                "latent_norms": path.norm(dim=1).tolist()}
            ax.plot(t.numpy(), probability, color=colour, linestyle="-" if method == "lerp" else "--",
                    marker="o", markersize=3, label=f"{name} ({method})")
    ax.axhline(classifier.CLEAR, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("t (0: digit A, 1: digit B)")
    ax.set_ylabel("probability of the likeliest digit")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="lower center", ncols=3)
    return pictures.grid_picture(rows, captions, titles, scale=2), figure, round_summary(summary)
