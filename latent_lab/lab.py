"""Moved: see latent_lab/checks.py (kept only while the rest of the code moves over)."""
from latent_lab.checks import *  # noqa: F401,F403
from latent_lab.checks import InputError, MAX_SEED, check_number, model_name, round_summary  # noqa: F401
