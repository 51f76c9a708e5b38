"""Training replayed and training live: log-spaced snapshots, a tiny live training (seeded,
streamed, stoppable), and fast checks on the shipped replay."""

import numpy as np
import pytest
import torch

from latent_lab.checks import InputError
from latent_lab.digits import live, maps, replay
from latent_lab.training.replay_digits import snapshot_steps


@pytest.fixture
def short_live(monkeypatch):
    """Live training at 2 steps a second (10 steps for 5 seconds) on a 16-cell-less small map."""
    monkeypatch.setattr(live, "STEPS_PER_SECOND", 2)


# Snapshots

def test_snapshots_are_log_spaced_from_the_untrained_network():
    steps = snapshot_steps(4000)
    assert steps[0] == 0 and steps[1] == 5 and steps[-1] == 4000 and len(steps) >= 9
    ratios = np.array(steps[2:]) / np.array(steps[1:-1])
    assert ratios.min() > 2 and ratios.max() < 3


# Training live

@pytest.mark.parametrize("knobs, message", [
    ((17, 2, 20, 0), "β, the KL weight"), ((1, 3, 20, 0), "2 or 16"), ((1, 2, 4, 0), "seconds"),
    ((1, 2, 61, 0), "seconds"), ((1, 2, 20, -1), "seed"), ((1, "two", 20, 0), "latent numbers"),
])
def test_live_knobs_out_of_range_get_a_sentence(knobs, message):
    with pytest.raises(InputError, match=message):
        next(live.train_live(*knobs))


def test_a_fresh_model_is_drawn_from_its_seed_alone():
    request = live.check_request(1, 2, 5, 7)
    first, second = live.seeded_model(request), live.seeded_model(request)
    torch.manual_seed(123)  # the global generator plays no part
    third = live.seeded_model(request)
    for a, b, c in zip(first.parameters(), second.parameters(), third.parameters()):
        assert torch.equal(a, b) and torch.equal(a, c)
    other = live.seeded_model(live.check_request(1, 2, 5, 8))
    assert not torch.equal(next(other.parameters()), next(first.parameters()))


def test_training_live_streams_and_the_same_seed_gives_the_same_model(short_live):
    answers = list(live.train_live(1, 2, 5, 3))
    assert len(answers) >= 2 and answers[0][2]["steps"] == 0 and not answers[0][2]["done"]
    picture, figure, summary, yours = answers[-1]
    assert summary["done"] and summary["steps"] == summary["total_steps"] == 10
    assert all(answer[3] is None for answer in answers[:-1])  # the model is handed over when done
    assert yours.name == summary["name"] == "yours: β=1, 5 s, 2 numbers" and yours.latent_dim == 2
    assert {"beta", "latent_dim", "seconds", "steps", "recon", "kl", "code_std", "clear_share"} <= set(summary)
    assert picture.size == (maps.CELL * live.MAP_CELLS,) * 2 and len(figure.axes) == 2
    again = list(live.train_live(1, 2, 5, 3))[-1]
    assert again[2] == summary and again[0].tobytes() == picture.tobytes()
    assert list(live.train_live(1, 2, 5, 4))[-1][2] != summary


def test_training_live_with_16_numbers_shows_prior_samples(short_live):
    *_, (picture, _figure, summary, _yours) = live.train_live(0, 16, 5, 0)
    assert summary["kind"] == "ae" and summary["kl"] is None and "prior_digit_likeness" in summary
    assert "clear_share" not in summary and picture.size[0] == 8 * 28 * 3


def test_a_live_training_stops_when_it_is_no_longer_asked(short_live):
    stream = live.train_live(1, 2, 60, 0)  # 120 steps
    first = next(stream)
    second = next(stream)
    stream.close()  # what a server does when the page goes
    assert first[2]["steps"] == 0 and 0 < second[2]["steps"] < 120
    with pytest.raises(StopIteration):
        next(stream)


# The shipped replay

def test_training_replayed_shows_the_map_forming():
    for name in replay.REPLAYED:
        picture, figure, summary = replay.training_view(name, 0)
        snapshots = summary["snapshots"]
        assert len(snapshots) >= 8 and snapshots[0]["step"] == 0 and summary["snapshot"] == 0
        assert [row["step"] for row in snapshots] == sorted(row["step"] for row in snapshots)
        assert snapshots[-1]["clear_share"] > snapshots[0]["clear_share"] + 0.5
        assert snapshots[-1]["recon"] < snapshots[0]["recon"]
        assert picture.size == (maps.CELL * replay.REPLAY_CELLS,) * 2 and len(figure.axes) == 2
        last = replay.training_view(name, len(snapshots) - 1)[0]
        assert last.tobytes() != picture.tobytes()
    with pytest.raises(InputError, match="snapshot"):
        replay.training_view("digits-vae-2d", 99)
    with pytest.raises(InputError, match="Unknown digits model"):
        replay.training_view("digits-vae-16", 0)
