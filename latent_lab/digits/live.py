"""Train one live: a fresh small model of the family's kind, trained from scratch on the shipped
training digits for a few seconds, shown as it learns (the map, or prior samples for 16 numbers,
and the loss curves).

`train_live` is a generator: it yields a picture, a figure, a summary and (at the end) the
trained model at least every UPDATE_SECONDS, and does no work between yields, so a caller that
stops asking stops it. The length is counted in steps (STEPS_PER_SECOND for each second asked),
never read off the clock, so the same seed gives the same model on the same machine however busy
it is.
"""

from dataclasses import dataclass
import math
import time

import torch
from torch import nn

from latent_lab.checks import InputError, MAX_SEED, check_number, round_summary
from latent_lab.digits import classifier, figures, latents, maps, pictures
from latent_lab.digits.beta import MAX_BETA
from latent_lab.digits.loss import family_loss, loss_curve, warmed_weight
from latent_lab.digits.models import DigitsAutoencoder, test_digits, train_digits
from latent_lab.digits.yours import Yours

MIN_SECONDS, MAX_SECONDS = 5, 60
LATENT_DIMS = (2, 16)
STEPS_PER_SECOND = 30  # the pace the seconds are counted in (about this machine's on a busy CPU, drawing included)
UPDATE_SECONDS = 0.5  # a new picture at least this often
CHANNELS, HIDDEN = 16, 64  # smaller than the shipped models: a few thousand steps must do
BATCH, LR = 32, 6e-3  # small batches, a high rate: the most map for a few hundred steps (measured)
WARMUP_SHARE = 0.2  # the KL weight ramps up over the first fifth of the steps
MAP_CELLS = 16
PRIOR_SHOWN, PRIOR_MEASURED = 24, 256  # 16 numbers: z ~ N(0, I) shown (3 rows of 8), and measured
RECENT_STEPS = 20  # while training, the loss is the mean of the last this many batches


@dataclass(frozen=True)
class Request:
    beta: float
    latent_dim: int
    seconds: float
    seed: int

    @property
    def steps(self):
        return round(self.seconds * STEPS_PER_SECOND)

    @property
    def name(self):
        return f"yours: β={self.beta:g}, {self.seconds:g} s, {self.latent_dim} numbers"


def check_request(beta, latent_dim, seconds, seed):
    """The four knobs, checked where they enter."""
    latent_dim = check_number(latent_dim, "The number of latent numbers", min(LATENT_DIMS), max(LATENT_DIMS),
                              integer=True)
    if latent_dim not in LATENT_DIMS:
        raise InputError(f"The number of latent numbers must be 2 or 16; got {latent_dim}.")
    return Request(check_number(beta, "β, the KL weight", 0, MAX_BETA), latent_dim,
                   check_number(seconds, "The training time in seconds", MIN_SECONDS, MAX_SECONDS),
                   check_number(seed, "The seed", 0, MAX_SEED, integer=True))


def seeded_model(request):
    """A fresh model whose every weight is drawn from the request's seed (torch's default
    initialisation, with our own generator: no other request's draws can change it)."""
    kind = "ae" if request.beta == 0 else "vae"
    model = DigitsAutoencoder(kind=kind, latent_dim=request.latent_dim, kl_weight=request.beta,
                              channels=CHANNELS, hidden=HIDDEN)
    generator = torch.Generator().manual_seed(request.seed)
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
                nn.init.uniform_(layer.bias, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), generator=generator)
    return model


def train_steps(model, optimizer, state, count):
    """`count` more training steps; state holds the data, the generator, the step and the losses."""
    pixels, generator, request = state["pixels"], state["generator"], state["request"]
    model.train()
    for _ in range(count):
        step = len(state["losses"])
        batch = torch.randint(len(pixels), (BATCH,), generator=generator)
        digits = pixels[batch].float() / 255  # (BATCH, 28, 28)
        weight = warmed_weight(request.beta, step, WARMUP_SHARE * request.steps)
        for group in optimizer.param_groups:  # cosine to a twentieth
            group["lr"] = LR * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / request.steps)))
        loss, bce, kl = family_loss(model, digits, generator, weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        state["losses"].append((bce.item(), kl.item()))
    model.eval()


def measure(model, state, done):
    """The codes of the test digits now, and the numbers: reconstruction and KL (nats per digit) of
    the test digits when done, else of the last training batches (cheaper: no decode), and the
    codes' spread."""
    images, _ = test_digits()
    pixels = latents.to_pixels(images)
    with torch.inference_mode():
        mean, logvar = model.encode(pixels)
        if done:
            recon = float(nn.functional.binary_cross_entropy_with_logits(
                model.decode_logits(mean), pixels, reduction="none").sum(dim=(1, 2)).mean())
            kl = None if logvar is None else float(0.5 * (mean**2 + logvar.exp() - 1 - logvar).sum(dim=1).mean())
        elif state["losses"]:
            recent = state["losses"][-RECENT_STEPS:]
            recon, kl = (sum(values) / len(recent) for values in zip(*recent))
            kl = None if logvar is None else kl
        else:  # not one step yet
            recon = kl = None
    return mean, {"recon": recon, "kl": kl, "code_std": float(mean.std(dim=0).mean()),
                  "measured_on": "test digits" if done else "training batches"}


def picture_now(model, request, codes):
    """2 numbers: the map (N(0, I)'s ±3, wider when the codes spread further) and its clear share;
    16 numbers: seeded prior samples, labelled, and the prior's digit-likeness."""
    if request.latent_dim == 2:
        half = max(maps.PRIOR_EXTENT, float(codes.abs().max()) * 1.1)
        picture, inks = maps.draw_map(model, maps.Plane(half=half, cells=MAP_CELLS), codes, test_digits()[1])
        return picture, {"clear_share": classifier.digit_likeness(inks), "span": [-half, half, -half, half]}
    inks = latents.decode(model, maps.prior_z(PRIOR_MEASURED, 16, request.seed))
    _, _, captions, _ = pictures.labelled(inks[:PRIOR_SHOWN])
    rows = [inks[row:row + 8] for row in range(0, PRIOR_SHOWN, 8)]
    picture = pictures.grid_picture(rows, [captions[row:row + 8] for row in range(0, PRIOR_SHOWN, 8)], scale=3)
    return picture, {"prior_digit_likeness": classifier.digit_likeness(inks)}


def show(model, request, state, done):
    """(picture, loss curves figure, summary, the model as Yours when done, else None) as it is now."""
    codes, numbers = measure(model, state, done)
    picture, shown = picture_now(model, request, codes)
    steps = len(state["losses"])
    curve = loss_curve(state["losses"], with_kl=request.beta > 0)
    title = f"β={request.beta:g}, {request.latent_dim} numbers: step {steps:,} of {request.steps:,}"
    figure = figures.curves_figure(curve, steps, title=title)
    summary = {"beta": request.beta, "latent_dim": request.latent_dim, "seconds": request.seconds,
               "seed": request.seed, "steps": steps, "total_steps": request.steps, "done": done,
               "kind": model.config.kind, "name": request.name, **numbers, **shown}
    yours = Yours(request.name, model, request.latent_dim) if done else None
    return picture, figure, round_summary(summary), yours


def train_live(beta, latent_dim, seconds, seed):
    """Train a fresh model from scratch, yielding (picture, figure, summary, yours) at least every
    UPDATE_SECONDS; the last has done=True and the model (Yours). Stopping the iteration stops
    the training."""
    request = check_request(beta, latent_dim, seconds, seed)
    # 1. A fresh model, its optimizer and the data: all drawn from the seed.
    model = seeded_model(request)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    state = {"pixels": torch.from_numpy(train_digits()[0].copy()), "request": request, "losses": [],
             "generator": torch.Generator().manual_seed(request.seed)}
    yield show(model, request, state, done=False)  # the untrained model, at once
    # 2. Steps in chunks of about UPDATE_SECONDS / 3, a picture after each (drawing takes longer).
    chunk = 5
    while len(state["losses"]) < request.steps:
        began = time.monotonic()
        train_steps(model, optimizer, state, min(chunk, request.steps - len(state["losses"])))
        took = max(time.monotonic() - began, 1e-3)
        chunk = max(1, min(4 * chunk, round(chunk * UPDATE_SECONDS / 3 / took)))
        if len(state["losses"]) < request.steps:
            yield show(model, request, state, done=False)
    # 3. The finished model.
    yield show(model, request, state, done=True)
