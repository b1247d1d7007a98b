"""OGC WFS GetFeature, with GeoJSON or GML output, paged, complete or failed.

A run reads GetCapabilities first, to speak the server's version and to ask for a
coordinate system and an output format the feature type offers (the options ``srs``
and ``output_format`` override). WFS 2.0 pages through the whole collection with
``count`` / ``startIndex``. An answer that says it is incomplete (``numberMatched`` or
``totalFeatures`` above what came, ``numberReturned`` above what it holds) fails the
run, so that what is missing from it is not deleted from the layer.
"""

import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sensorgrid.geo.pipelines.items import Document, Item, PipelineError, Skip
from sensorgrid.geo.pipelines.registry import Download, Request, Source
from sensorgrid.geo.pipelines.sources import gml
from sensorgrid.geo.pipelines.sources import wfs_capabilities as capabilities
from sensorgrid.geo.pipelines.sources.geojson import features as geojson_features
from sensorgrid.geo.pipelines.sources.text import load_json

#: Pages a run follows at most: a server that never ends its collection must not loop.
MAX_PAGES = 10_000


@dataclass(frozen=True, slots=True)
class Page:
    """What one GetFeature answer says about itself."""

    listed: int  # features it holds
    returned: int | None  # numberReturned / numberOfFeatures
    matched: int | None  # numberMatched / totalFeatures; None when "unknown"
    first: str | None = None  # the first feature's id: a repeated page shows


class WFSSource(Source):
    key = "wfs"
    description = (
        "OGC WFS GetFeature; options url (service endpoint), type_name, version, "
        "output_format, srs, count (features per page), bbox, axis_order."
    )
    required = ("url", "type_name")
    coordinates = True
    own_options = {
        "type_name": {"type": "string", "description": "feature type, e.g. ns:trees"},
        "version": {"enum": ["1.0.0", "1.1.0", "2.0.0", "2.0.2"]},
        "output_format": {"type": "string", "description": "default: from GetCapabilities"},
        "count": {"type": "integer", "minimum": 1, "description": "features per request"},
        "bbox": {"type": "string", "description": "minx,miny,maxx,maxy[,crs]"},
    }

    def fetch(self, options: dict[str, Any], download: Download) -> Iterator[Document]:
        url, type_name = options["url"], options["type_name"]
        payload, _ = download(Request(capabilities.request_url(url, options.get("version"))))
        offered = capabilities.read(payload, type_name)
        if offered is not None and offered.type_names and not offered.has_type(type_name):
            raise PipelineError(
                f"the service offers no feature type {type_name!r}; it offers: "
                + ", ".join(offered.type_names[:20])
            )
        version = options.get("version") or (offered.version if offered else "2.0.0")
        two = version.startswith("2")
        srs = capabilities.choose_crs(offered.crs if offered else (), options.get("srs"), version)
        output = capabilities.choose_format(
            offered.formats if offered else (), options.get("output_format")
        )
        params: dict[str, Any] = {
            "service": "WFS",
            "version": version,
            "request": "GetFeature",
            ("typeNames" if two else "typeName"): offered_name(offered, type_name),
            "outputFormat": output,
        }
        if srs:
            params["srsName"] = srs
        if options.get("bbox"):
            params["bbox"] = options["bbox"]
        size = options.get("count") or (offered.count_default if offered else None)
        hints = {"_version": version, "_srs": srs}
        collected, start, firsts = 0, 0, set()
        for _ in range(MAX_PAGES):
            query = {**params}
            if size:
                query["count" if two else "maxFeatures"] = int(size)
            if start:
                query["startIndex"] = start
            separator = "&" if "?" in url else "?"
            body, content_type = download(Request(url + separator + urllib.parse.urlencode(query)))
            page = read_page(body)
            if page.returned is not None and page.returned != page.listed:
                raise PipelineError(
                    f"the WFS answer is truncated: it says {page.returned} features were "
                    f"returned but holds {page.listed}; the layer is kept as it was"
                )
            if page.first is not None and page.first in firsts:
                # A server that ignores startIndex sends page one again: its counts would
                # add up while the rest of the collection never came.
                raise PipelineError(
                    f"the WFS answered startIndex={start} with a page it sent before "
                    f"(feature {page.first}): it does not page; the layer is kept as it was"
                )
            firsts.add(page.first)
            yield Document(body, content_type, hints)
            collected += page.listed
            if page.matched is None:
                if not two and size and page.listed >= int(size):
                    raise PipelineError(
                        f"the WFS answer holds exactly maxFeatures={size} features and does "
                        "not say how many there are: it is probably cut off; raise count"
                    )
                return
            if collected >= page.matched:
                return
            if not two or (offered is not None and offered.paging is False) or not page.listed:
                raise PipelineError(
                    f"the WFS answer is incomplete: {page.matched} features match, "
                    f"{collected} came"
                    + ("" if two else "; WFS 1.x cannot page: narrow bbox or use version 2.0.0")
                )
            size, start = size or page.listed, collected
        raise PipelineError(f"the WFS collection did not end after {MAX_PAGES} pages")

    def parse(self, payload: bytes, options: dict) -> Iterator[Item | Skip]:
        requested = options.get("_srs")
        if payload.lstrip()[:1] in (b"{", b"["):
            document = load_json(payload, options, "WFS answer")
            yield from geojson_features(document, default_crs=requested)
        else:
            reading = gml.Reading(
                options.get("axis_order"), requested, options.get("_version") or "2.0.0"
            )
            yield from gml.gml_features(payload, reading)


def offered_name(offered: capabilities.Capabilities | None, type_name: str) -> str:
    """The type's name as the server spells it (its prefix may differ from the option's)."""
    if offered is None:
        return type_name
    return capabilities.find(offered.type_names, type_name) or type_name


def read_page(payload: bytes) -> Page:
    """The counts a GetFeature answer states and the features it holds."""
    if payload.lstrip()[:1] in (b"{", b"["):
        try:
            document = json.loads(payload)
        except ValueError:
            return Page(0, None, None)  # the parse step reports it
        if not isinstance(document, dict):
            return Page(0, None, None)
        listed = document.get("features")
        listed = listed if isinstance(listed, list) else []
        matched = _count(document.get("numberMatched"))
        if matched is None:
            matched = _count(document.get("totalFeatures"))  # GeoServer's name
        first = listed[0].get("id") if listed and isinstance(listed[0], dict) else None
        return Page(
            len(listed),
            _count(document.get("numberReturned")),
            matched,
            None if first is None else str(first),
        )
    root = gml.collection(payload)
    returned = _count(root.get("numberReturned"))
    if returned is None:
        returned = _count(root.get("numberOfFeatures"))  # WFS 1.1
    features = list(gml.members(root))
    first = gml.feature_id(features[0]) if features else None
    return Page(len(features), returned, _count(root.get("numberMatched")), first)


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None  # absent or "unknown"
