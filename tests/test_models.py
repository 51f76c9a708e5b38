import threading

import pytest
import torch

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
    """One connection attempt of a few seconds at most, then only the local cache is read: no
    minutes of the hub client's retries (a network that swallows packets is simulated)."""
    from huggingface_hub import constants
    attempts = []

    def unreachable(address, timeout=None, *args, **kwargs):
        attempts.append(timeout)
        raise TimeoutError("timed out")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(models.socket, "create_connection", unreachable)
    with pytest.raises(ModelUnavailableError, match="Could not load the VAE 'latent-lab-test/no-such-vae' "
                       r"\(the model hub cannot be reached and no copy is cached here\).*LATENT_LAB_VAE"):
        models.load_vae("latent-lab-test/no-such-vae")
    # Our one probe of 3 s, and the hub client's own look-ups (measured: one, for its user agent), each
    # with a timeout: at most 30 s in all, where the hub client's retries took minutes.
    assert attempts[0] == 3.0 and len(attempts) <= 3 and all(0 < timeout <= 10 for timeout in attempts), attempts


# The decoder's precision on the CPU: bf16 where it is faster, fp32 elsewhere.

AVX2_FLAGS = frozenset({"sse4_2", "avx", "avx2", "fma", "f16c"})


def refuse_to_time():
    raise AssertionError("the CPU flags settle it: nothing should be timed")


def test_without_bf16_units_the_decoder_stays_fp32_untimed():
    decision = models.bf16_decision("auto", AVX2_FLAGS, refuse_to_time)
    assert not decision.use
    assert decision.reason.startswith("no native bf16") and decision.reason.endswith(": fp32")


def test_with_bf16_units_a_faster_convolution_decides():
    flags = AVX2_FLAGS | {"avx512f", "avx512_bf16"}
    fast = models.bf16_decision("auto", flags, lambda: 2.1)
    assert fast == models.Precision(True, "avx512_bf16 in CPU flags, bf16 convolution 2.1x as fast as fp32: bf16")
    assert models.bf16_decision("auto", flags, lambda: 1.1).use  # a loaded machine squeezes the gain
    emulated = models.bf16_decision("auto", flags, lambda: 0.3)  # a torch build without bf16 kernels
    assert not emulated.use and "only 0.30x as fast" in emulated.reason
    unknown = models.bf16_decision("auto", frozenset(), lambda: 1.1)  # no /proc/cpuinfo: bf16 must clearly win
    assert not unknown.use and "CPU flags unknown" in unknown.reason
    assert models.bf16_decision("auto", frozenset(), lambda: 1.9).use


def test_the_setting_overrides_the_cpu():
    assert models.bf16_decision("0", AVX2_FLAGS | {"amx_bf16"}, refuse_to_time) == models.Precision(False, "LATENT_LAB_BF16=0: fp32")
    forced = models.bf16_decision("1", AVX2_FLAGS, refuse_to_time)
    assert forced.use and "slower than fp32" in forced.reason


def test_cpu_bf16_reads_the_setting_and_refuses_a_bad_one(monkeypatch):
    monkeypatch.setenv("LATENT_LAB_BF16", "0")
    assert not models.cpu_bf16().use
    monkeypatch.setenv("LATENT_LAB_BF16", " 1 ")
    assert models.cpu_bf16().use
    monkeypatch.setenv("LATENT_LAB_BF16", "yes")
    with pytest.raises(ModelUnavailableError, match="LATENT_LAB_BF16='yes' is not a valid setting.*'auto'"):
        models.cpu_bf16()


def test_a_bad_bf16_setting_is_refused_when_the_vae_loads(monkeypatch, tmp_path):
    from tests.conftest import make_tiny_vae

    make_tiny_vae().save_pretrained(tmp_path, safe_serialization=True)
    monkeypatch.setenv("LATENT_LAB_BF16", "fast")
    with pytest.raises(ModelUnavailableError, match="LATENT_LAB_BF16"):
        models.load_vae(str(tmp_path))


def test_autocast_runs_convolutions_in_bf16_only_when_decided(monkeypatch):
    from tests.conftest import make_tiny_vae

    vae = make_tiny_vae()
    conv, pixels = vae.decoder.conv_in, torch.zeros(1, 4, 2, 2)
    for setting, expected in (("1", torch.bfloat16), ("0", torch.float32)):
        monkeypatch.setenv("LATENT_LAB_BF16", setting)
        with torch.no_grad(), models.autocast(vae):
            assert conv(pixels).dtype == expected
    monkeypatch.setenv("LATENT_LAB_BF16", "1")
    half = make_tiny_vae().half()  # a half-precision model (as on a GPU) runs as it is
    with torch.no_grad(), models.autocast(half):
        assert half.decoder.conv_in(pixels.half()).dtype == torch.float16


class ScriptedClock:
    """A perf_counter that moves only when `charge` is called from the test's own thread: timings
    become known numbers, whatever the machine and its load."""

    def __init__(self):
        self.now, self.owner = 0.0, threading.get_ident()

    def perf_counter(self):
        return self.now

    def charging(self, real, seconds_of):
        """`real`, calling which (from this thread) advances the clock by seconds_of(its arguments)."""
        def charged(*args, **kwargs):
            if threading.get_ident() == self.owner:
                self.now += seconds_of(*args, **kwargs)
            return real(*args, **kwargs)
        return charged


def test_the_speedup_probe_times_both_precisions_interleaved_and_keeps_the_best_of_each(monkeypatch):
    clock, dtypes = ScriptedClock(), []
    # Each convolution's seconds by precision and attempt: the warm-up (attempt 0) is slowest and
    # must not count; the best fp32 is 3.0, the best bf16 1.5.
    seconds = {torch.float32: iter([9.0, 4.0, 3.0, 5.0]), torch.bfloat16: iter([9.0, 2.0, 1.5, 2.5])}

    def seconds_of(pixels, weight, **options):
        dtypes.append(pixels.dtype)
        return next(seconds[pixels.dtype])

    monkeypatch.setattr(models, "time", clock)
    monkeypatch.setattr(torch.nn.functional, "conv2d", clock.charging(torch.nn.functional.conv2d, seconds_of))
    assert models.bf16_conv_speedup(channels=8, side=8, repeats=3) == 3.0 / 1.5
    assert dtypes == [torch.float32, torch.bfloat16] * 4  # in turn, so both see the same load
