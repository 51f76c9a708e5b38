"""The Arithmetic tab: decode z(A) + strength·(z(C) − z(B)), "A is to ? as B is to C"."""

from dataclasses import dataclass

from PIL import Image

from latent_lab import imaging, vae as vae_ops
from latent_lab.cache import posteriors, prepare
from latent_lab.checks import check_number, model_name, round_summary

MAX_STRENGTH = 3.0  # how far along C − B the result may go, either way


@dataclass
class ArithmeticResult:
    result: Image.Image  # decode of z(A) + strength·(z(C) - z(B))
    reconstructions: list  # decodes of μ for A, B and C
    summary: dict


def arithmetic_view(vae, source, file_a, file_b, file_c, strength=1.0, max_side=512):
    """z = z(A) + strength·(z(C) - z(B)) on the μ's: "A is to ? as B is to C"."""
    strength = check_number(strength, "Strength", -MAX_STRENGTH, MAX_STRENGTH)
    image_a = prepare(vae, file_a, max_side)
    image_b = prepare(vae, file_b, max_side, size=image_a.size)  # B and C take A's size
    image_c = prepare(vae, file_c, max_side, size=image_a.size)
    images = image_a, image_b, image_c
    mean_a, mean_b, mean_c = (posteriors.get(vae, image).mean for image in images)
    result = mean_a + strength * (mean_c - mean_b)  # (1, C, h, w)
    reconstructions = [posteriors.reconstruction(vae, image) for image in images]
    summary = {
        "strength": strength,
        "result_norm": result.norm().item(),
        "a_norm": mean_a.norm().item(),
        "difference_norm": (mean_c - mean_b).norm().item(),
        "model": model_name(source),
    }
    return ArithmeticResult(imaging.to_pil(vae_ops.decode(vae, result)[0]),
                            [imaging.to_pil(p) for p in reconstructions], round_summary(summary))
