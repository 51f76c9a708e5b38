"""Settings read from environment variables, with defaults that work offline."""

from dataclasses import dataclass
import os
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
EMBEDDED_VAE = ASSETS / "models" / "latent-lab-vae"
EMBEDDED_PIPELINE = ASSETS / "models" / "latent-lab-t2i"
EXAMPLES = ASSETS / "examples"


@dataclass(frozen=True)
class Settings:
    vae: str  # a local diffusers folder or a hub id
    pipeline: str
    max_side: int  # uploads are shrunk so their longest side is at most this
    threads: int  # torch CPU threads; 0 lets torch decide
    max_file_size: str  # upload limit, as Gradio reads it

    @classmethod
    def from_env(cls):
        env = os.environ.get
        return cls(
            vae=env("LATENT_LAB_VAE") or str(EMBEDDED_VAE),
            pipeline=env("LATENT_LAB_PIPELINE") or str(EMBEDDED_PIPELINE),
            max_side=int(env("LATENT_LAB_MAX_SIDE", "512")),
            threads=int(env("LATENT_LAB_THREADS", "0")),
            max_file_size=env("LATENT_LAB_MAX_FILE_SIZE", "25mb"),
        )
