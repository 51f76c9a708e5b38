"""Latent Lab: explore the latent space of a variational autoencoder."""
