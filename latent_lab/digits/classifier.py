"""The digit classifier as a judge of pictures: which digit, how sure, and digit-likeness.

A picture is a *clear digit* when the classifier's most likely class is one of 0-9 with a
probability of at least CLEAR (not "no digit", not torn between two digits). The digit-likeness
of a set of pictures is the share of them that are clear digits.
"""

import numpy as np
import torch

from latent_lab.digits.latents import to_pixels
from latent_lab.digits.models import CLASSIFIER, NO_DIGIT, load

CLEAR = 0.5


def label_name(label):
    """How a label reads in a summary: the digit 0-9, or "no digit"."""
    return "no digit" if int(label) == NO_DIGIT else int(label)


@torch.inference_mode()
def probabilities(classifier, digits):
    """(N, 28, 28) digits -> (N, 11) class probabilities (0-9, then NO_DIGIT)."""
    return classifier(to_pixels(digits)).softmax(dim=1)


def classify(classifier, digits):
    """(N, 28, 28) digits -> labels (N,) int in 0-10 (10: no digit) and their probabilities (N,).
    `classifier`: a DigitClassifier, or None for the shipped one."""
    classifier = load(CLASSIFIER) if classifier is None else classifier
    confidences, labels = probabilities(classifier, digits).max(dim=1)
    return labels.numpy(), confidences.numpy()


def digit_probability(digits, classifier=None):
    """(N,) the probability of the likeliest digit 0-9: how clearly each picture is some digit."""
    classifier = load(CLASSIFIER) if classifier is None else classifier
    return probabilities(classifier, digits)[:, :NO_DIGIT].max(dim=1).values.numpy()


def judge(digits, classifier=None):
    """labels (N,), confidences (N,), and which are clear digits (N,) bool: top class 0-9 with
    probability >= CLEAR."""
    labels, confidences = classify(classifier, digits)
    return labels, confidences, (labels != NO_DIGIT) & (confidences >= CLEAR)


def digit_likeness(digits, classifier=None):
    """The share of pictures (N, 28, 28) that are clear digits, in [0, 1]."""
    return float(np.mean(judge(digits, classifier)[2])) if len(digits) else 0.0


def label_mix(digits, classifier=None):
    """How many pictures the classifier gives each label: {"0": n, ..., "9": n, "no digit": n}
    (text keys, as JSON has them)."""
    counts = np.bincount(classify(classifier, digits)[0], minlength=NO_DIGIT + 1)
    return {str(label_name(label)): int(count) for label, count in enumerate(counts)}
