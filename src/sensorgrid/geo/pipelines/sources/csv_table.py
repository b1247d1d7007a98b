"""CSV files from open-data portals: one row per feature, coordinates in columns."""

import csv
import io
from collections.abc import Iterator

from sensorgrid.geo.pipelines.items import Item, PipelineError, Skip
from sensorgrid.geo.pipelines.registry import Source
from sensorgrid.geo.pipelines.sources.text import decode


class CSVSource(Source):
    key = "csv"
    description = "CSV over HTTP; options url, delimiter (default: guessed), encoding."
    own_options = {"delimiter": {"type": "string", "description": "default: guessed"}}
    coordinates = True

    def parse(self, payload: bytes, options: dict) -> Iterator[Item | Skip]:
        text = decode(payload, options, "CSV file")
        delimiter = options.get("delimiter") or _guess_delimiter(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise PipelineError("the CSV file is empty (no header row)") from None
        except csv.Error as exc:
            raise PipelineError(f"the CSV header cannot be read: {exc}") from None
        header = [name.strip() for name in header]
        if len(header) < 2:
            raise PipelineError(
                f"the CSV header has one column ({header[0]!r}); is the delimiter "
                f"{delimiter!r} right? Set the option delimiter."
            )
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Skip(f"line {reader.line_num}", f"unreadable CSV: {exc}")
                continue
            ref = f"line {reader.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                yield Skip(ref, f"{len(row)} fields where the header has {len(header)}")
                continue
            yield Item(ref=ref, properties=dict(zip(header, row, strict=True)))


def _guess_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    return max((",", ";", "\t", "|"), key=first.count)
