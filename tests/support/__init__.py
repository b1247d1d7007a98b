"""Helpers for tests and benchmarks that are no part of the product."""
