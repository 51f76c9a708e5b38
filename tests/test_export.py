"""latent_lab/export.py: GIF and MP4 files with every frame."""

import imageio.v2 as imageio
import pytest

from latent_lab import export
from latent_lab.checks import InputError
from tests.conftest import photo_like


def test_gif_has_every_frame_and_bounces(tmp_path):
    frames = [photo_like(32, 32, seed=s) for s in range(4)]
    path = export.save_gif(frames, tmp_path / "path.gif")
    from PIL import Image
    with Image.open(path) as gif:
        assert gif.n_frames == 6  # 0 1 2 3 2 1


def test_mp4_has_every_frame_with_even_sides(tmp_path):
    frames = [photo_like(33, 21, seed=s) for s in range(5)]
    path = export.save_mp4(frames, tmp_path / "walk.mp4", fps=4)
    assert path.exists() and path.stat().st_size > 0
    read = imageio.mimread(path)
    assert len(read) == 5 and read[0].shape == (20, 32, 3)
    with pytest.raises(InputError, match="same size"):
        export.save_mp4([photo_like(32, 32), photo_like(48, 32)], tmp_path / "bad.mp4")
    with pytest.raises(InputError, match="no frames"):
        export.save_mp4([], tmp_path / "empty.mp4")
