"""What a WFS offers (GetCapabilities), and the choices a run makes from it.

Read from the capabilities document: the version the server speaks, the feature types,
for the wanted type its coordinate systems (default first) and output formats, and
whether GetFeature pages (``ImplementsResultPaging``) and how many features it returns
at most (``CountDefault``). WFS 1.0, 1.1 and 2.0 spell these differently.
"""

import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from sensorgrid.geo.pipelines import crs

#: Output formats in the order a run prefers them: GeoJSON is smaller and faster to read.
_JSON = ("application/geo+json", "application/json", "json", "geojson")
_GML = ("gml/3.2", "version=3.2", "gml32", "gml/3.1", "gml3", "gml")


@dataclass(frozen=True, slots=True)
class Capabilities:
    version: str
    type_names: tuple[str, ...]
    crs: tuple[str, ...]  # of the wanted feature type, its default first
    formats: tuple[str, ...]  # GetFeature output formats
    paging: bool | None  # ImplementsResultPaging; None when the server does not say
    count_default: int | None  # the most features one GetFeature returns

    def has_type(self, name: str) -> bool:
        return find(self.type_names, name) is not None


def request_url(url: str, version: str | None) -> str:
    """The GetCapabilities URL; without a version the server picks the newest it speaks."""
    params = {"service": "WFS", "request": "GetCapabilities"}
    if version:
        params["version"] = version
    else:
        params["AcceptVersions"] = "2.0.0,1.1.0,1.0.0"
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)


def read(payload: bytes, type_name: str) -> Capabilities | None:
    """The capabilities in ``payload`` for ``type_name``; None if it is no such document."""
    try:
        root = ET.fromstring(payload)
    except ET.ParseError:
        return None
    if _local(root.tag) not in ("WFS_Capabilities", "Capabilities"):
        return None
    types = [t for t in root.iter() if _local(t.tag) == "FeatureType"]
    names = tuple(_text(t, "Name") for t in types if _text(t, "Name"))
    wanted = find(names, type_name)
    feature_type = next((t for t in types if _text(t, "Name") == wanted), None)
    systems: list[str] = []
    own_formats: list[str] = []
    if feature_type is not None:
        for child in feature_type:
            if _local(child.tag) in ("DefaultCRS", "DefaultSRS", "OtherCRS", "OtherSRS", "SRS"):
                systems.extend((child.text or "").split())
            if _local(child.tag) == "OutputFormats":
                own_formats.extend(_texts(child, "Format"))
    return Capabilities(
        version=root.get("version") or "2.0.0",
        type_names=names,
        crs=tuple(systems),
        formats=tuple(own_formats or _operation_formats(root)),
        paging=_flag(_constraint(root, "ImplementsResultPaging")),
        count_default=_number(_constraint(root, "CountDefault")),
    )


def choose_crs(offered: tuple[str, ...], wanted: str | None, version: str) -> str | None:
    """The srsName to ask for: the option ``srs``, else CRS84 if offered, else the default.

    WFS ≥ 1.1 is asked with the URN form, whose axis order no server disputes.
    """
    name = wanted
    if name is None:
        name = next((c for c in offered if crs.normalised(c) == "OGC:CRS84"), None)
    if name is None and offered:
        name = offered[0]
    if name is None or version.startswith("1.0"):
        return name
    return crs.request_name(name)


def choose_format(offered: tuple[str, ...], wanted: str | None) -> str:
    """The outputFormat: the option ``output_format``, else GeoJSON, else GML 3.2 … 2."""
    if wanted:
        return wanted
    lowered = [f.lower().replace(" ", "") for f in offered]
    for preferred in (*_JSON, *_GML):
        for original, low in zip(offered, lowered, strict=True):
            if preferred in low:
                return original
    return offered[0] if offered else "application/json"


def find(names: tuple[str, ...], wanted: str) -> str | None:
    if wanted in names:
        return wanted
    local = wanted.rsplit(":", 1)[-1]  # the prefix may differ from the server's
    return next((n for n in names if n.rsplit(":", 1)[-1] == local), None)


def _operation_formats(root: ET.Element) -> list[str]:
    formats: list[str] = []
    for operation in root.iter():
        name = _local(operation.tag)
        if name == "Operation" and operation.get("name") == "GetFeature":
            for parameter in operation:
                if _local(parameter.tag) == "Parameter" and parameter.get("name") in (
                    "outputFormat",
                    "OutputFormat",
                ):
                    formats.extend(_texts(parameter, "Value"))
        elif name == "GetFeature":  # WFS 1.0: <ResultFormat><GML2/><JSON/></ResultFormat>
            for result in operation:
                if _local(result.tag) == "ResultFormat":
                    formats.extend(_local(f.tag) for f in result)
    return formats


def _constraint(root: ET.Element, name: str) -> str | None:
    for element in root.iter():
        if _local(element.tag) == "Constraint" and element.get("name") == name:
            values = _texts(element, "DefaultValue") or _texts(element, "Value")
            return values[0] if values else None
    return None


def _flag(value: str | None) -> bool | None:
    return None if value is None else value.strip().upper() == "TRUE"


def _number(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: ET.Element, name: str) -> str:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def _texts(element: ET.Element, name: str) -> list[str]:
    return [
        (e.text or "").strip()
        for e in element.iter()
        if _local(e.tag) == name and (e.text or "").strip()
    ]
