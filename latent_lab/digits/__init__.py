"""The digits family: small models with vector latents on real MNIST handwriting (autoencoder
and VAEs of growing KL weight), the framing of drawn digits, a digit classifier and the views."""
