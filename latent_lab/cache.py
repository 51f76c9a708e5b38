"""Work done once per picture: its posterior and its reconstruction, kept per model and picture
content, so that every tab asking about the same picture skips the encoder and the decoder."""

from collections import OrderedDict
import hashlib
import threading

from latent_lab import imaging, vae as vae_ops

POSTERIOR_CACHE_SIZE = 32


class PosteriorCache:
    """Per model and picture content: its posterior, and the decode of μ once asked for, so
    repeated requests skip the encoder, and the reconstruction is decoded once."""

    def __init__(self, size=POSTERIOR_CACHE_SIZE):
        self.size, self.entries, self.lock = size, OrderedDict(), threading.Lock()

    def _entry(self, vae, image):
        key = (id(vae), image.size, hashlib.sha256(image.tobytes()).hexdigest())
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        entry = {"posterior": vae_ops.encode(vae, image)}
        with self.lock:
            entry = self.entries.setdefault(key, entry)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return entry

    def get(self, vae, image):
        return self._entry(vae, image)["posterior"]

    def reconstruction(self, vae, image):
        """decode(μ) of `image`: (3, H, W) in [-1, 1]."""
        entry = self._entry(vae, image)
        if "reconstruction" not in entry:
            entry["reconstruction"] = vae_ops.decode(vae, entry["posterior"].mean)[0]
        return entry["reconstruction"]


posteriors = PosteriorCache()


def prepare(vae, file, max_side, size=None):
    """An uploaded file -> RGB picture ready for the encoder: within max_side, sides a multiple
    of the VAE's scale factor; or exactly `size` (width, height) when given."""
    if file is None:
        raise imaging.ImageError(f"No picture was given. Upload {imaging.ACCEPTED}.")
    image = imaging.load_image(file, max_side)
    multiple = vae_ops.scale_factor(vae)
    if size is None:
        return imaging.fit_to_model(image, max_side, multiple)
    return imaging.cover(image, size)
