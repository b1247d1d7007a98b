"""A small WFS 2.0 for the local test server, shaped after the OGC WFS 2.0 examples.

The capabilities follow OGC 09-025r2 (Annex/examples: ``wfs:WFS_Capabilities`` with
``ows:OperationsMetadata`` constraints ``ImplementsResultPaging`` and ``CountDefault``,
``wfs:FeatureType`` with ``DefaultCRS``/``OtherCRS``); GetFeature answers are
``wfs:FeatureCollection`` elements with ``numberMatched``/``numberReturned`` and GML 3.2
members, or GeoJSON with the same counts, paged by ``count`` and ``startIndex``.
"""

import json
from dataclasses import dataclass, field

CAPABILITIES = """<?xml version="1.0" encoding="UTF-8"?>
<wfs:WFS_Capabilities version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0"
    xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink">
  <ows:ServiceIdentification><ows:Title>Baustellen</ows:Title>
    <ows:ServiceType>WFS</ows:ServiceType><ows:ServiceTypeVersion>2.0.0</ows:ServiceTypeVersion>
  </ows:ServiceIdentification>
  <ows:OperationsMetadata>
    <ows:Operation name="GetCapabilities"/>
    <ows:Operation name="GetFeature">
      <ows:Parameter name="outputFormat"><ows:AllowedValues>{formats}</ows:AllowedValues>
      </ows:Parameter>
    </ows:Operation>
    <ows:Constraint name="ImplementsResultPaging"><ows:NoValues/>
      <ows:DefaultValue>{paging}</ows:DefaultValue></ows:Constraint>
    <ows:Constraint name="CountDefault"><ows:NoValues/>
      <ows:DefaultValue>{count_default}</ows:DefaultValue></ows:Constraint>
  </ows:OperationsMetadata>
  <wfs:FeatureTypeList>
    <wfs:FeatureType xmlns:ms="http://mapserver.gis.umn.edu/mapserver">
      <wfs:Name>ms:baustellen</wfs:Name><wfs:Title>Baustellen</wfs:Title>
      {systems}
      <ows:WGS84BoundingBox><ows:LowerCorner>5.8 47.2</ows:LowerCorner>
        <ows:UpperCorner>15.1 55.1</ows:UpperCorner></ows:WGS84BoundingBox>
    </wfs:FeatureType>
  </wfs:FeatureTypeList>
</wfs:WFS_Capabilities>
"""

GML_COLLECTION = """<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0"
    xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:ms="http://mapserver.gis.umn.edu/mapserver"
    timeStamp="2026-12-06T10:00:00Z" numberMatched="{matched}" numberReturned="{returned}">
{members}
</wfs:FeatureCollection>
"""

GML_MEMBER = """  <wfs:member><ms:baustellen gml:id="baustellen.{fid}">
    <ms:titel>{title}</ms:titel>
    <ms:geom><gml:Point gml:id="p{fid}" srsName="{srs}"><gml:pos>{a} {b}</gml:pos></gml:Point>
    </ms:geom></ms:baustellen></wfs:member>"""

#: Berlin sights in ETRS89 / UTM zone 33N (EPSG:25833), easting northing, and WGS 84.
SIGHTS = [
    ("Fernsehturm", 392081.04, 5820154.85, 13.409419, 52.520803),
    ("Brandenburger Tor", 389918.04, 5819699.13, 13.377704, 52.516275),
]


@dataclass
class WFS:
    """Features (title, x, y) in ``srs``; the knobs make it misbehave as real ones do."""

    features: list[tuple[str, float, float]]
    srs: str = "urn:ogc:def:crs:EPSG::25833"
    offered_crs: tuple[str, ...] = ("urn:ogc:def:crs:EPSG::25833",)
    formats: tuple[str, ...] = ("application/gml+xml; version=3.2", "application/json")
    paging: bool = True
    count_default: int = 1000  # the most one answer holds, as a server's limit
    lie_matched: int | None = None  # numberMatched to claim instead of the truth
    lie_returned: int | None = None  # numberReturned to claim instead of the truth
    ignore_start: bool = False  # claims paging but answers every startIndex with page one
    requests: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        self.requests.append(query)
        if query.get("request", "").lower() == "getcapabilities":
            return 200, "text/xml", self.capabilities().encode()
        start = int(query.get("startindex", 0)) if self.paging and not self.ignore_start else 0
        count = min(int(query.get("count", self.count_default)), self.count_default)
        page = self.features[start : start + count]
        matched = len(self.features) if self.lie_matched is None else self.lie_matched
        returned = len(page) if self.lie_returned is None else self.lie_returned
        if "json" in query.get("outputformat", ""):
            return 200, "application/json", self.geojson(page, start, matched, returned)
        members = "\n".join(
            GML_MEMBER.format(fid=start + n, title=t, srs=self.srs, a=a, b=b)
            for n, (t, a, b) in enumerate(page, start=1)
        )
        body = GML_COLLECTION.format(matched=matched, returned=returned, members=members)
        return 200, "application/gml+xml; version=3.2", body.encode()

    def capabilities(self) -> str:
        systems = "".join(
            f"<wfs:{'DefaultCRS' if n == 0 else 'OtherCRS'}>{c}</wfs:"
            f"{'DefaultCRS' if n == 0 else 'OtherCRS'}>"
            for n, c in enumerate(self.offered_crs)
        )
        return CAPABILITIES.format(
            formats="".join(f"<ows:Value>{f}</ows:Value>" for f in self.formats),
            paging="TRUE" if self.paging else "FALSE",
            count_default=self.count_default,
            systems=systems,
        )

    def geojson(self, page, start: int, matched: int, returned: int) -> bytes:
        return json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": self.srs}},
                "numberMatched": matched,
                "numberReturned": returned,
                "features": [
                    {
                        "type": "Feature",
                        "id": f"baustellen.{start + n}",
                        "geometry": {"type": "Point", "coordinates": [a, b]},
                        "properties": {"titel": t},
                    }
                    for n, (t, a, b) in enumerate(page, start=1)
                ],
            }
        ).encode()
