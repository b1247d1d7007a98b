"""Steps. Importing this package registers the built-in ones, in the order a run uses."""

from sensorgrid.geo.pipelines.steps import fetch, load, parse, transform  # noqa: F401

#: What every run does, in this order.
DEFAULT = ("fetch", "parse", "transform", "load")
