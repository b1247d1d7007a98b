"""Outlier models (versions) and the score of every picture (docs/images.md)."""
