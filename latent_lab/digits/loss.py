"""The digits family's training loss, shared by the training scripts and the model trained live,
and the loss curves drawn from it."""

import numpy as np
import torch
import torch.nn.functional as F


def family_loss(model, pixels, generator, kl_weight):
    """Negative ELBO per digit (at kl_weight 1): Bernoulli BCE summed over pixels + KL to N(0, I).
    An autoencoder decodes μ itself and has no KL. Returns (loss, bce, kl), each a mean per digit."""
    mean, logvar = model.encode(pixels)  # (B, d) each
    if logvar is None:
        z, kl = mean, torch.zeros(len(mean))
    else:
        z = mean + (0.5 * logvar).exp() * torch.randn(mean.shape, generator=generator)
        kl = 0.5 * (mean**2 + logvar.exp() - 1 - logvar).sum(dim=1)
    bce = F.binary_cross_entropy_with_logits(model.decode_logits(z), pixels, reduction="none").sum(dim=(1, 2))
    return (bce + kl_weight * kl).mean(), bce.mean(), kl.mean()


def warmed_weight(kl_weight, step, warmup_steps):
    """The KL weight at `step`: ramped up from 0 over `warmup_steps`, so that every number gets
    used before the KL prunes."""
    return kl_weight * min(1.0, step / warmup_steps) if warmup_steps else kl_weight


def loss_curve(losses, points=120, with_kl=True):
    """Per-step (reconstruction, KL) losses (S, 2) averaged between `points` log-spaced steps:
    {steps, recon, kl} (kl None without a KL term), for a curve on a log axis."""
    losses = np.asarray(losses, dtype=np.float64).reshape(-1, 2)
    if not len(losses):
        return {"steps": [], "recon": [], "kl": [] if with_kl else None}
    edges = np.unique(np.geomspace(1, len(losses), points).round().astype(int))
    starts = np.concatenate([[0], edges[:-1]])
    means = np.array([losses[a:b].mean(axis=0) for a, b in zip(starts, edges)])
    return {"steps": edges.tolist(), "recon": means[:, 0].round(2).tolist(),
            "kl": means[:, 1].round(3).tolist() if with_kl else None}
