"""Settings read from environment variables, with defaults that work offline."""

from dataclasses import dataclass
import os
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
EMBEDDED_VAE = ASSETS / "models" / "latent-lab-vae"
# Three points on the reconstruction-versus-regularity trade-off, same architecture and data.
MODEL_FAMILY = (ASSETS / "models" / "latent-lab-ae", EMBEDDED_VAE, ASSETS / "models" / "latent-lab-vae-strong-kl")
EMBEDDED_PIPELINE = ASSETS / "models" / "latent-lab-t2i"
EXAMPLES = ASSETS / "examples"


@dataclass(frozen=True)
class Settings:
    vae: str  # a local diffusers folder or a hub id
    pipeline: str
    max_side: int | None  # uploads are shrunk so their longest side is at most this; None: measured
    threads: int  # torch CPU threads; 0 lets torch decide
    max_file_size: str  # upload limit, as Gradio reads it
    queue_size: int  # requests that may wait; past it a client is told the app is busy
    concurrency: int  # requests computed at once
    cache_seconds: int  # uploads and results older than this are deleted

    @classmethod
    def from_env(cls):
        env = os.environ.get
        return cls(
            vae=env("LATENT_LAB_VAE") or str(EMBEDDED_VAE),
            pipeline=env("LATENT_LAB_PIPELINE") or str(EMBEDDED_PIPELINE),
            max_side=int(env("LATENT_LAB_MAX_SIDE")) if env("LATENT_LAB_MAX_SIDE") else None,
            threads=int(env("LATENT_LAB_THREADS", "0")),
            max_file_size=env("LATENT_LAB_MAX_FILE_SIZE", "25mb"),
            queue_size=int(env("LATENT_LAB_QUEUE_SIZE", "32")),
            concurrency=int(env("LATENT_LAB_CONCURRENCY", "2")),
            cache_seconds=int(env("LATENT_LAB_CACHE_SECONDS", "3600")),
        )

    def vae_choices(self):
        """The VAEs offered in the app, by name: the embedded family, then LATENT_LAB_VAE's."""
        choices = {path.name: str(path) for path in MODEL_FAMILY if (path / "config.json").exists()}
        return choices | {self.vae_name: self.vae}

    @property
    def vae_name(self):
        """LATENT_LAB_VAE's name in the selector: its folder's name, or the hub id."""
        path = Path(self.vae)
        if not path.is_dir():
            return self.vae
        clash = any(p.name == path.name and p.resolve() != path.resolve() for p in MODEL_FAMILY)
        return self.vae if clash else path.name
