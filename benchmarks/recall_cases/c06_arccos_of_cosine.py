# Source: https://github.com/davidsandberg/facenet/issues/692 (also QData/TextAttack#804):
# the angle between two embeddings as arccos(dot / (|a| |b|)); for identical embeddings rounding
# gives 1.0000001 and arccos returns NaN ("invalid value encountered in arccos").
import numpy as np


def angular_distance(embeddings1, embeddings2):
    dot = np.sum(embeddings1 * embeddings2, axis=1)
    norm = np.linalg.norm(embeddings1, axis=1) * np.linalg.norm(embeddings2, axis=1)
    similarity = dot / norm
    return np.arccos(similarity) / np.pi  # expect: acos-domain
