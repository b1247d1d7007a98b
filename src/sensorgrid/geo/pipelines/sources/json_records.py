"""JSON documents from open-data portals: a list of records somewhere in the document."""

from collections.abc import Iterator

from sensorgrid.geo.pipelines.items import Item, PipelineError, Skip
from sensorgrid.geo.pipelines.mapping import get
from sensorgrid.geo.pipelines.registry import Source
from sensorgrid.geo.pipelines.sources.text import load_json


class JSONSource(Source):
    key = "json"
    description = (
        "JSON over HTTP; options url, records (dotted path to the list of records, "
        "default: the document itself)."
    )
    own_options = {"records": {"type": "string", "description": "dotted path to the list"}}
    coordinates = True

    def parse(self, payload: bytes, options: dict) -> Iterator[Item | Skip]:
        document = load_json(payload, options, "JSON document")
        path = options.get("records")
        records = get(document, path) if path else document
        if not isinstance(records, list):
            where = f"at {path!r}" if path else "at the top"
            raise PipelineError(
                f"no list of records {where} of the document; set the option records to "
                "the dotted path of the list (e.g. data.items)"
            )
        for number, record in enumerate(records, start=1):
            ref = f"record {number}"
            if isinstance(record, dict):
                yield Item(ref=ref, properties=record)
            else:
                yield Skip(ref, f"a {type(record).__name__}, not an object")
