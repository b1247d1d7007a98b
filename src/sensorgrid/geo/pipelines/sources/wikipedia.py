"""Wikipedia articles near a place (MediaWiki geosearch API).

Two answers are read: ``list=geosearch`` (a list of pages with ``lat``/``lon``) and
``generator=geosearch`` (pages with a ``coordinates`` list, plus any other ``prop``
asked for, such as ``description``); the option ``generator: true`` asks for the
latter. formatversion 1 (pages by id) and 2 (a list) are both understood.
"""

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
        "generator": {"type": "boolean", "description": "generator=geosearch with descriptions"},
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
        point = f"{float(options['lat'])}|{float(options['lon'])}"
        radius, limit = int(options.get("radius", 1000)), int(options.get("limit", 100))
        common = {"action": "query", "format": "json", "formatversion": 2}
        if options.get("generator"):
            params = {
                **common,
                "generator": "geosearch",
                "ggscoord": point,
                "ggsradius": radius,
                "ggslimit": limit,
                "prop": "coordinates|description",
                "colimit": "max",
                "codistancefrompoint": point,
            }
        else:
            params = {**common, "list": "geosearch", "gscoord": point}
            params.update(gsradius=radius, gslimit=limit)
        return Request(url=f"{endpoint}?{urllib.parse.urlencode(params)}")

    def parse(self, payload: bytes, options: dict) -> Iterator[Item | Skip]:
        document = load_json(payload, options, "Wikipedia answer")
        if isinstance(document, dict) and "error" in document:
            error = document["error"]
            info = error.get("info") if isinstance(error, dict) else error
            raise PipelineError(f"Wikipedia refused the query: {info}")
        query = (document.get("query") or {}) if isinstance(document, dict) else {}
        pages = query.get("geosearch") if isinstance(query, dict) else None
        if pages is None and isinstance(query, dict) and "pages" in query:
            pages = [_flat(page) for page in _listed(query["pages"])]
        elif pages is None and isinstance(document, dict) and "batchcomplete" in document:
            pages = []  # a generator that found nothing answers without "query"
        if not isinstance(pages, list):
            raise PipelineError("the Wikipedia answer has neither query.geosearch nor query.pages")
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
                    **({"description": page["description"]} if "description" in page else {}),
                },
            )


def _listed(pages) -> list:
    """formatversion 2 lists the pages, formatversion 1 maps page ids to them."""
    if isinstance(pages, dict):
        return list(pages.values())
    return pages if isinstance(pages, list) else []


def _flat(page) -> dict:
    """A generator page with its primary coordinates as lat/lon/dist, like list=geosearch."""
    if not isinstance(page, dict):
        return {}
    places = [c for c in page.get("coordinates") or [] if isinstance(c, dict)]
    place = next((c for c in places if c.get("primary") not in (None, False)), None)
    place = place or (places[0] if places else {})
    flat = {k: v for k, v in page.items() if k != "coordinates"}
    for key in ("lat", "lon", "dist"):
        if key in place:
            flat[key] = place[key]
    return flat


def _whole(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # out of every range: reported as such
