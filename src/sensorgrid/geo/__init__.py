"""Open-data map layers: layers, features, and the pipelines that fill them."""
