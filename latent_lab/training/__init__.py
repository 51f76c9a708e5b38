"""Data sets and training scripts that produce the embedded models in assets/models/."""
