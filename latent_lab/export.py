"""Frames as files: a looping GIF and an H.264 MP4."""

import imageio.v2 as imageio
import numpy as np
from PIL import Image

from latent_lab import imaging
from latent_lab.checks import InputError, check_number


def save_gif(pictures, path, seconds_per_frame=0.15, bounce=True, format=None):
    """Frames as a looping GIF (forward then back when `bounce`). Each distinct frame is reduced to
    256 colours once, by the fast octree method (Pillow's default method took 20-40x as long)."""
    reduced = [picture.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE) for picture in pictures]
    sequence = reduced + reduced[-2:0:-1] if bounce and len(reduced) > 2 else reduced
    sequence[0].save(path, format=format, save_all=True, append_images=sequence[1:],
                     duration=int(seconds_per_frame * 1000), loop=0)
    return path


def save_mp4(pictures, path, fps=8):
    """Frames as an H.264 MP4 (imageio-ffmpeg's own ffmpeg). H.264 with yuv420p needs even sides,
    so an odd last row or column is cropped off; every frame must have the first one's size."""
    fps = check_number(fps, "Frames per second", 1, 60, integer=True)
    if not pictures:
        raise InputError("There are no frames to save; make a strip of pictures first.")
    width, height = pictures[0].size
    if any(picture.size != (width, height) for picture in pictures):
        raise InputError("Every frame of a video must have the same size.")
    even = (0, 0, width - width % 2, height - height % 2)
    with imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264", pixelformat="yuv420p",
                            macro_block_size=1) as writer:  # 1: keep our size, no resizing to multiples of 16
        for picture in pictures:
            writer.append_data(np.asarray(imaging.to_rgb(picture).crop(even)))
    return path
