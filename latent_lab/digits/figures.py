"""matplotlib Figures of the β family and of training: the reconstruction-versus-KL trade-off,
and loss curves with a moment marked (object API only, as in latent_lab.plots)."""

import numpy as np

from latent_lab.plots import new_figure

DIM_COLOURS = {2: "tab:blue", 16: "tab:orange"}
KL_FLOOR = 0.01  # nats: the log axis's floor (a collapsed model's KL is ~0)


def tradeoff_figure(rows, chosen):
    """PSNR of decode(μ) against KL (nats per digit) for every model of the family (`rows`: dicts
    with latent_dim, kl_weight, psnr_db, kl_nats), one line per latent size; the models trained
    at weight `chosen` ringed. Autoencoders have no σ and no KL: drawn at the right edge."""
    figure = new_figure(6.4, 3.8)
    ax = figure.subplots()
    kls = [row["kl_nats"] for row in rows if row["kl_nats"] is not None]
    right = max(kls) * 2.5
    for dim, colour in DIM_COLOURS.items():
        members = sorted((row for row in rows if row["latent_dim"] == dim), key=lambda row: -row["kl_weight"])
        x = [right if row["kl_nats"] is None else max(row["kl_nats"], KL_FLOOR) for row in members]
        y = [row["psnr_db"] for row in members]
        ax.plot(x, y, "-o", color=colour, label=f"{dim} numbers")
        for row, xi, yi in zip(members, x, y):
            name = "AE" if row["kl_nats"] is None else f"β={row['kl_weight']:g}"
            ax.annotate(name, (xi, yi), textcoords="offset points", xytext=(5, 5 if dim == 16 else -12), fontsize=8)
            if row["kl_weight"] == chosen:
                ax.plot([xi], [yi], "o", markersize=15, markerfacecolor="none", markeredgecolor="red",
                        markeredgewidth=2)
    ax.axvline(right / 1.6, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("KL to N(0, I), nats per digit (AE: no σ, off the scale)")
    ax.set_ylabel("PSNR of decode(μ), dB")
    ax.set_title(f"Reconstruction against KL; ringed: β = {chosen:g}", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return figure


def curves_figure(curve, moment, marks=None, title=""):
    """The training loss's two terms side by side, over steps (log axis): reconstruction (BCE,
    nats per digit) and KL (nats per digit); a red line at step `moment`. curve: {steps, recon,
    kl} (kl None for an autoencoder); marks: {steps, recon, kl}, held-out values drawn as dots."""
    figure = new_figure(7.2, 3.0)
    axes = figure.subplots(1, 2)
    steps = np.maximum(np.asarray(curve["steps"], dtype=np.float64), 1)
    for ax, key, label in ((axes[0], "recon", "reconstruction (BCE)"), (axes[1], "kl", "KL to N(0, I)")):
        values = curve[key]
        if values is None or all(value is None for value in values):
            ax.text(0.5, 0.5, "no KL term:\nan autoencoder", ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        ax.plot(steps, values, color="tab:blue", linewidth=1, label="training batches")
        if marks is not None and marks.get(key) is not None:
            ax.plot(np.maximum(marks["steps"], 1), marks[key], "o", color="black", markersize=3, label="test digits")
        ax.legend(fontsize=7)
        ax.axvline(max(moment, 1), color="red", linewidth=1.5)
        ax.set_xscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel(f"{label}, nats per digit", fontsize=8)
        ax.grid(alpha=0.3)
    if title:
        figure.suptitle(title, fontsize=10)
    return figure
