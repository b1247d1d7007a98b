"""Wikipedia articles near a place (MediaWiki geosearch API)."""

import urllib.parse
from collections.abc import Iterator

from sensorgrid.geo.pipelines.items import Item, PipelineError, Skip
from sensorgrid.geo.pipelines.registry import Request, Source
from sensorgrid.geo.pipelines.sources.text import load_json


class WikipediaSource(Source):
    key = "wikipedia"
    description = (
        "Wikipedia geosearch; options lat, lon, radius (m, ≤ 10000), limit (≤ 500), "
        "lang (default en), url (API endpoint, default the language's wikipedia.org)."
    )
    required = ()
    own_options = {
        "lat": {"description": "latitude of the centre"},
        "lon": {"description": "longitude of the centre"},
        "radius": {"description": "metres, 10–10000"},
        "limit": {"description": "articles, 1–500"},
        "lang": {"type": "string", "description": "wiki language, default en"},
    }

    def check_options(self, options: dict) -> None:
        super().check_options(options)
        try:
            lat, lon = float(options["lat"]), float(options["lon"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("The wikipedia source needs numeric options lat and lon.") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError("lat must be within ±90 and lon within ±180.")
        if not 10 <= _whole(options.get("radius", 1000)) <= 10000:
            raise ValueError("radius must be between 10 and 10000 metres (the API's limit).")
        if not 1 <= _whole(options.get("limit", 100)) <= 500:
            raise ValueError("limit must be between 1 and 500 (the API's limit).")

    def request(self, options: dict) -> Request:
        lang = options.get("lang") or "en"
        endpoint = options.get("url") or f"https://{lang}.wikipedia.org/w/api.php"
        query = urllib.parse.urlencode(
            {
                "action": "query",
                "list": "geosearch",
                "gscoord": f"{float(options['lat'])}|{float(options['lon'])}",
                "gsradius": int(options.get("radius", 1000)),
                "gslimit": int(options.get("limit", 100)),
                "format": "json",
                "formatversion": 2,
            }
        )
        return Request(url=f"{endpoint}?{query}")

    def parse(self, payload: bytes, options: dict) -> Iterator[Item | Skip]:
        document = load_json(payload, options, "Wikipedia answer")
        if isinstance(document, dict) and "error" in document:
            error = document["error"]
            info = error.get("info") if isinstance(error, dict) else error
            raise PipelineError(f"Wikipedia refused the query: {info}")
        pages = (
            (document.get("query") or {}).get("geosearch") if isinstance(document, dict) else None
        )
        if not isinstance(pages, list):
            raise PipelineError("the Wikipedia answer has no query.geosearch list")
        lang = options.get("lang") or "en"
        for page in pages:
            pageid = page.get("pageid") if isinstance(page, dict) else None
            if pageid is None or "lat" not in page or "lon" not in page:
                yield Skip(f"page {pageid}", "no page id or coordinates")
                continue
            yield Item(
                ref=f"page {pageid}",
                external_id=str(pageid),
                geometry={"type": "Point", "coordinates": [page["lon"], page["lat"]]},
                properties={
                    "title": page.get("title"),
                    "distance_m": page.get("dist"),
                    "url": f"https://{lang}.wikipedia.org/?curid={pageid}",
                },
            )


def _whole(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # out of every range: reported as such
