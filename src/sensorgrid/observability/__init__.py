"""Observability: Prometheus metrics at /metrics, request ids, structured logs.

Nothing here may import prometheus_client at package import: ``cli.main`` imports
``multiprocess`` before prometheus_client, which picks its storage (memory or shared
files) once, on its own import. See docs/operations.md.
"""
