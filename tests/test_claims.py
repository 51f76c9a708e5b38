"""Every number the app's texts quote about the shipped models (help texts, README, LESSON.md, model
cards) is measured here on those models, and must match within the stated tolerance: a retrained
model whose numbers moved fails until its texts say the new ones."""

import json
from pathlib import Path
import re

import numpy as np
import pytest

from latent_lab.digits import classifier, latents, maps, samples
from latent_lab.digits import models
from latent_lab.digits.models import load
from latent_lab.training.evaluate_digits import PRIOR_COUNT, VAE_PLANE
from ui.digits import maps as map_view

ROOT = Path(__file__).resolve().parent.parent
README, LESSON = (ROOT / "README.md").read_text(), (ROOT / "docs" / "LESSON.md").read_text()
POINT = 0.6  # percentage points: a share quoted as a whole percent is within half a point, plus rounding
TWO_DIGITS = 0.006  # a share quoted with two digits (0.70) or a percent with one decimal (88.5%)


def quoted(text, pattern):
    """The numbers `pattern`'s groups find in `text` (the claim must be there, word for word)."""
    found = re.search(pattern, text, flags=re.S)
    assert found, f"no claim matching {pattern!r}"
    return [float(group.replace(",", "")) for group in found.groups()]


@pytest.fixture(scope="module")
def prior_likeness():
    """Digit-likeness of 1,024 random latents, per 16-number model, as evaluate_digits measures it."""
    return {name: classifier.digit_likeness(latents.decode(load(name), maps.prior_z(PRIOR_COUNT, 16)))
            for name in ("digits-ae-16", "digits-vae-16")}


@pytest.fixture(scope="module")
def prior_map():
    return maps.map_view("prior").summary


def test_readme_random_latents(prior_likeness):
    vae, ae = quoted(README, r"Random latents: (\d+)% of the 16-number VAE's decodes.*?clear digits, (\d+)% of")
    assert abs(100 * prior_likeness["digits-vae-16"] - vae) <= POINT
    assert abs(100 * prior_likeness["digits-ae-16"] - ae) <= POINT


def test_readme_model_table_prior_column(prior_likeness):
    for name, measured in prior_likeness.items():
        (claimed,) = quoted(README, rf"\| {name} \|[^\n]*\| ([\d.]+) \|\n")
        assert abs(measured - claimed) <= 0.0006  # three digits


def test_readme_and_lesson_planes(prior_map):
    vae_plane = classifier.digit_likeness(latents.decode(load("digits-vae-2d"), VAE_PLANE.points()))
    (claimed,) = quoted(README, r"The 2-number VAE's plane: ([\d.]+)% of a grid over \[-2\.5, 2\.5\]²")
    assert abs(100 * vae_plane - claimed) <= 100 * TWO_DIGITS
    (on_screen,) = quoted(README, r"the\s+app's map spans ±3: ([\d.]+)% there, its `clear_share`")
    assert abs(100 * prior_map["digits-vae-2d"]["clear_share"] - on_screen) <= 100 * TWO_DIGITS
    ae_share = prior_map["digits-ae-2d"]["clear_share"]
    (lesson,) = quoted(LESSON, r"digit-like shapes almost everywhere \(`clear_share` (\d+)%\)")
    assert abs(100 * ae_share - lesson) <= POINT


def test_map_help_and_lesson_code_spread(prior_map):
    ae, vae = (float(np.mean(prior_map[name]["code_std"])) for name in ("digits-ae-2d", "digits-vae-2d"))
    for text in (map_view.MAP_HELP, LESSON):
        claimed_ae, claimed_vae = quoted(text, r"`code_std` about (\d+).*?`code_std` about (\d+)")
        assert abs(ae - claimed_ae) <= 0.5 and abs(vae - claimed_vae) <= 0.5  # "about"
    assert prior_map["digits-ae-2d"]["prior_label_mix"]["0"] == 0  # "its prior samples hold no 0 at all"
    assert "no 0s" in map_view.MAP_HELP and "no 0 at all" in README


def test_lesson_prior_samples():
    models = samples.prior_samples_view(12, 0)[1]["models"]
    ae, vae = quoted(LESSON, r"`digit_likeness_256` ([\d.]+)\); the VAE's row is digits \(([\d.]+)\)")
    assert abs(models["digits-ae-16"]["digit_likeness_256"] - ae) <= 0.01
    assert abs(models["digits-vae-16"]["digit_likeness_256"] - vae) <= 0.01


def test_lesson_beta_family_numbers_are_the_shipped_tables():
    family = {(row["latent_dim"], row["kl_weight"]): row for row in
              json.loads((ROOT / "assets" / "models" / "digits-beta" / "family.json").read_text())["family"]}
    spread = quoted(LESSON, r"`code_std` ([\d.]+) at 0, ([\d.]+) at 0\.05, ([\d.]+) at 0\.2, against\s+([\d.]+) at 1")
    for claimed, beta in zip(spread, (0, 0.05, 0.2, 1)):
        assert abs(family[2, beta]["code_std"] - claimed) <= 0.051
    blur = quoted(LESSON, r"PSNR ([\d.]+) dB at 1, ([\d.]+) at 4, ([\d.]+) at 16")
    for claimed, beta in zip(blur, (1, 4, 16)):
        assert abs(family[16, beta]["psnr_db"] - claimed) <= 0.051
    active = quoted(LESSON, r"KL above 0\.05 nats: (\d+), (\d+), (\d+)\)")
    assert active == [family[16, beta]["active_dims"] for beta in (1, 4, 16)]


def test_traversal_help_says_what_the_numbers_show():
    from latent_lab.digits import traversals
    images, _ = models.test_digits()
    summary = traversals.traversal_view(images[0] / 255.0)[1]
    used, off = (int(n) for n in quoted(LESSON, r"uses (\d+) of its 16: the KL switched (\d+) off"))
    kl = sorted(summary["kl_per_dim_test_mean"])
    assert summary["active_dims"] == used == 16 - off
    assert kl[off - 1] < 0.005 and kl[off] > traversals.ACTIVE_KL  # the ones off read "KL 0.00"; the rest carry some


def test_captions_are_quoted_as_the_pictures_write_them():
    from latent_lab.digits import pictures
    from ui import digits
    assert pictures.caption(7, 0.94, clear=True)[0] == "7 0.94"
    assert '"7 0.94"' in digits.HELP and "94%" not in digits.HELP
