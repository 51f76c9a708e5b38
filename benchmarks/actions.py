"""Each click of the app at its default settings, twice: as the app handles it (latent_lab's views,
their cache, the app's precision) and as plain fp32 diffusers calls doing the same model work; and
how soon each multi-picture view shows its first picture."""

import torch

from latent_lab import cache, imaging, paths
from latent_lab.diffusion import generate
from latent_lab.photos import encode, interpolate, sample, traverse
from latent_lab.config import EXAMPLES

# (decodes, encodes) of each click once the app's cache holds the pictures' posteriors and
# reconstructions; the first click, on a new picture, finds nothing there.
MODEL_WORK = {
    "encode a new picture": (1, 1),  # μ and σ, and the reconstruction
    "8 samples": (8, 0),
    "8-frame interpolation": (6, 0),  # the two end frames are the reconstructions
    "traversal, 7 frames": (7, 0),  # μ with 7 offsets of one channel
    "three ways, 8 frames": (12, 6),  # 6 middle frames of lerp and of slerp; the crossfade's 6 blends encoded
}
PHOTO_A, PHOTO_B = "coffee.jpg", "chelsea.jpg"  # B takes A's size in two-picture actions
GENERATE_PROMPT, GENERATE_STEPS = "a red circle on a blue background", 20

# Plain fp32 diffusers calls: default memory layout, no_grad, one picture per call, unscaled latents.
@torch.no_grad()
def plain_encode(vae, picture):
    return vae.encode(imaging.to_tensor(picture)).latent_dist


@torch.no_grad()
def plain_decodes(vae, latents):
    return [vae.decode(z[None]).sample for z in latents]


def plain_actions(vae, picture_a, picture_b):
    """The model work of each click (MODEL_WORK) as plain calls, on what the app's cache holds."""
    a, b = plain_encode(vae, picture_a), plain_encode(vae, picture_b)
    eps = torch.randn((8, *a.mean.shape[1:]), generator=torch.Generator().manual_seed(0))
    samples = a.mean + a.std * eps  # (8, C, h, w)
    lerp = paths.frames(a.mean[0], b.mean[0], 8, "lerp")  # (8, C, h, w)
    slerp = paths.frames(a.mean[0], b.mean[0], 8, "slerp")
    offsets = a.mean.repeat(7, 1, 1, 1)
    offsets[:, 0] += torch.linspace(-3, 3, 7)[:, None, None] * a.mean[0, 0].std()  # channel 0, in spreads
    ends = plain_decodes(vae, torch.cat([a.mean, b.mean]))
    blends = [imaging.to_pil(((1 - t) * ends[0] + t * ends[1])[0]) for t in torch.linspace(0, 1, 8)[1:-1].tolist()]

    def encode_new():
        plain_decodes(vae, plain_encode(vae, picture_a).mean)

    def three_ways():
        plain_decodes(vae, torch.cat([lerp[1:-1], slerp[1:-1]]))
        for blend in blends:
            plain_encode(vae, blend)

    return {"encode a new picture": encode_new,
            "8 samples": lambda: plain_decodes(vae, samples),
            "8-frame interpolation": lambda: plain_decodes(vae, slerp[1:-1]),
            "traversal, 7 frames": lambda: plain_decodes(vae, offsets),
            "three ways, 8 frames": three_ways}


def app_actions_at(vae, source, size, three_ways_size=None):
    """Each click as the app handles it (latent_lab's views, their cache, the app's precision);
    Three ways at `three_ways_size` (default: size), as sizing chooses it for a slow VAE."""
    file_a, file_b = EXAMPLES / PHOTO_A, EXAMPLES / PHOTO_B

    def encode_new():
        with cache.posteriors.lock:
            cache.posteriors.entries.clear()  # a picture the cache has not seen
        encode.encode_view(vae, source, file_a, size)

    return {"encode a new picture": encode_new,
            "8 samples": lambda: sample.sample_view(vae, source, file_a, 8, 1.0, 0, size),
            "8-frame interpolation": lambda: interpolate.interpolate_view(vae, source, file_a, file_b, 8, "slerp", size),
            "traversal, 7 frames": lambda: traverse.traverse_view(vae, source, file_a, 0, -3.0, 3.0, 7, "spread", None, size),
            "three ways, 8 frames": lambda: interpolate.three_ways_view(vae, source, file_a, file_b, 8,
                                                                        three_ways_size or size)}


def app_first_pictures_at(vae, source, size):
    """Each multi-picture view run until its stream yields its first picture."""
    file_a, file_b = EXAMPLES / PHOTO_A, EXAMPLES / PHOTO_B
    streams = {
        "8 samples": lambda: sample.sample_stream(vae, source, file_a, 8, 1.0, 0, size),
        "8-frame interpolation": lambda: interpolate.interpolate_stream(vae, source, file_a, file_b, 8, "slerp", size),
        "traversal, 7 frames": lambda: traverse.traverse_stream(vae, source, file_a, 0, -3.0, 3.0, 7, "spread", None, size),
        "three ways, 8 frames": lambda: interpolate.three_ways_stream(vae, source, file_a, file_b, 8, size),
    }

    def first(make_stream):
        stream = make_stream()
        next(stream)
        stream.close()

    return {action: (lambda make=make: first(make)) for action, make in streams.items()}


def generate_calls(pipe, plain_pipe):
    """(the app's /generate on the app's pipeline, previews every 4 steps as the tab shows them; a
    plain fp32 pipe() call with a fresh scheduler of the same class): the same prompt, steps, seed."""
    request = generate.Request(GENERATE_PROMPT, steps=GENERATE_STEPS)
    scheduler_class = type(generate.fresh_scheduler(pipe, request.scheduler))
    plain_pipe.set_progress_bar_config(disable=True)

    def app():
        for _ in generate.stream(pipe, request, "model"):
            pass

    @torch.no_grad()
    def plain():
        plain_pipe.scheduler = scheduler_class.from_config(plain_pipe.scheduler.config)
        plain_pipe(GENERATE_PROMPT, num_inference_steps=GENERATE_STEPS, guidance_scale=request.guidance_scale,
             generator=torch.Generator().manual_seed(request.seed))

    return app, plain
