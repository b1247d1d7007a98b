"""Image outlier detection: models trained on normal pictures score every new one."""
