"""Views that show their pictures as they decode are generators: they yield the list of pictures
done so far, then their result. `decoded` decodes for such a view; `last` runs one to its result."""

import torch

from latent_lab import imaging, vae as vae_ops


def decoded(vae, latents, shown):
    """Decode scaled latents (N, C, h, w) batch by batch, adding each batch's pictures to `shown`
    and yielding the list so far; returns the pictures as one tensor (N, 3, H, W). Use it as
    `pictures = yield from decoded(vae, latents, shown)`."""
    batches = []
    for batch in vae_ops.decode_batches(vae, latents):
        batches.append(batch)
        shown += [imaging.to_pil(p) for p in batch]
        yield list(shown)
    return torch.cat(batches)


def last(stream):
    """The final item of a view's stream: its result."""
    for item in stream:
        pass
    return item
