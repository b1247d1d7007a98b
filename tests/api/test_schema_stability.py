"""The OpenAPI operation ids and tags stay put: API clients generated from the schema name them.

drf-spectacular derives them from the path after a prefix; derived from the common prefix
of all paths, every id became "api_v1_…" when /write joined the site root (issue 17).
"""

from pathlib import Path
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

# Every operation id the schema had at a43d2b5, before the InfluxDB write routes.
PUBLISHED_IDS = Path(__file__).with_name("operation_ids.txt").read_text().split()


@pytest.fixture(scope="module")
def operations() -> dict[str, tuple[str, str, list[str]]]:
    schema: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return {
        op["operationId"]: (method, path, op.get("tags", []))
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
    }


def test_every_published_operation_id_is_still_there(operations):
    missing = [op_id for op_id in PUBLISHED_IDS if op_id not in operations]
    assert missing == []


@pytest.mark.parametrize(
    ("op_id", "method", "path", "tag"),
    [
        ("v1_nodes_list", "get", "/api/v1/nodes/", "v1"),
        ("v1_nodes_create", "post", "/api/v1/nodes/", "v1"),
        ("v1_organizations_list", "get", "/api/v1/organizations/", "v1"),
        ("geo_nodes_retrieve", "get", "/api/geo/nodes/", "geo"),
        ("ingest_with_decoder", "post", "/api/v1/ingest/{decoder}/", "ingest"),
        ("influxdb_v2_write", "post", "/api/v2/write", "ingest"),
        ("influxdb_v1_write", "post", "/write", "ingest"),
    ],
)
def test_an_operation_keeps_its_id_and_tag(operations, op_id, method, path, tag):
    assert operations[op_id] == (method, path, [tag])


def test_no_operation_is_named_after_the_api_prefix(operations):
    assert [op_id for op_id in operations if op_id.startswith("api_")] == []
    tags = {tag for _m, _p, tags in operations.values() for tag in tags}
    assert tags <= {"v1", "geo", "ingest", "images"}  # images: pictures and their outlier scores
