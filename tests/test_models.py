import time

import pytest

from latent_lab import models
from latent_lab.models import ModelUnavailableError


def test_local_folder_loads_once_and_is_cached(tiny_vae_folder):
    vae = models.load_vae(str(tiny_vae_folder))
    assert type(vae).__name__ == "AutoencoderKL"
    assert not vae.training
    assert models.load_vae(str(tiny_vae_folder)) is vae


def test_a_pipeline_folder_gives_its_vae(tiny_pipeline_folder):
    vae = models.load_vae(str(tiny_pipeline_folder))
    assert vae.config.latent_channels == 4


@pytest.mark.parametrize("source", ["/no/such/folder", "./missing-model", "not a hub id at all"])
def test_missing_folders_and_bad_names_name_the_variable(source):
    with pytest.raises(ModelUnavailableError, match="LATENT_LAB_VAE"):
        models.load_vae(source)


def test_a_file_is_not_a_model(tmp_path):
    file = tmp_path / "weights.bin"
    file.write_bytes(b"0")
    with pytest.raises(ModelUnavailableError, match="is a file"):
        models.load_pipeline(str(file))


def test_a_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(ModelUnavailableError, match="no model_index.json.*LATENT_LAB_PIPELINE"):
        models.load_pipeline(str(tmp_path))
    (tmp_path / "model_index.json").write_text("{}")
    with pytest.raises(ModelUnavailableError, match="Could not load the text-to-image pipeline.*LATENT_LAB_PIPELINE"):
        models.load_pipeline(str(tmp_path))


def test_an_unreachable_hub_id_fails_fast_with_one_sentence(monkeypatch):
    started = time.monotonic()
    with pytest.raises(ModelUnavailableError, match="Could not load the VAE 'latent-lab-test/no-such-vae'.*LATENT_LAB_VAE"):
        models.load_vae("latent-lab-test/no-such-vae")
    assert time.monotonic() - started < 30
