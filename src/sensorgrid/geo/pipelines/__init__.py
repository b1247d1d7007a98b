"""ETL pipelines: fetch → parse → transform → load (docs/pipelines.md).

Layers inside, each importing only those below it (the models sit between):
``runner`` → ``steps`` → ``geo.models`` → ``sources`` → ``registry``, ``mapping``,
``crs``, ``items``. This package imports none of them, so that the models can use the
sources without importing the runner.
"""
