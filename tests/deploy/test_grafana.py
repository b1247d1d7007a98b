"""Grafana's provisioning (deploy/grafana/) runs on the reporting views, as a reporting login.

The sensor-data dashboard's panels are SQL against the `reporting` schema. Each panel's
query, with Grafana's macros expanded as Grafana does for PostgreSQL, runs on the
throwaway install of tests/deploy/test_dbroles.py as the reporting login of one
organization: it must run, return the shape its panel draws, read only documented
views, and show that organization's nodes and none of the other's.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.deploy.test_dbroles import DATABASE, install  # noqa: F401 (fixture: one install)

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARD = GRAFANA / "sensor-data.json"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "sensorgrid.yaml"
pytestmark = pytest.mark.deploy
postgresql_only = pytest.mark.skipif(
    not DATABASE["ENGINE"].endswith("postgresql"),
    reason="the reporting views exist on PostgreSQL only: tested in the PostgreSQL pass",
)
# Panels that may be empty on the test's data (its nodes all delivered a minute ago).
MAY_BE_EMPTY = {"Silent nodes"}


def panels() -> list[dict]:
    return json.loads(DASHBOARD.read_text())["panels"]


def seconds(interval: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([smhd])", interval).groups()  # type: ignore[union-attr]
    return int(number) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def expand(sql: str, start: datetime, end: datetime) -> str:
    """Grafana's PostgreSQL macros, as its data source expands them."""
    bounds = f"'{start.isoformat()}' AND '{end.isoformat()}'"
    sql = re.sub(r"\$__timeFilter\(([^)]+)\)", rf"\1 BETWEEN {bounds}", sql)

    def group(match: re.Match[str], alias: str) -> str:
        column, interval = match.group(1).strip(), seconds(match.group(2))
        return f"floor(extract(epoch from {column})/{interval})*{interval}{alias}"

    sql = re.sub(r"\$__timeGroupAlias\(([^,]+),\s*'(\w+)'\)", lambda m: group(m, ' AS "time"'), sql)
    sql = re.sub(r"\$__timeGroup\(([^,]+),\s*'(\w+)'\)", lambda m: group(m, ""), sql)
    assert "$__" not in sql, f"a macro this test does not expand: {sql}"
    return sql


def test_the_dashboard_reads_the_provisioned_data_source_and_only_reporting_views():
    (source, *_) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert source["type"] == "grafana-postgresql-datasource"
    assert source["secureJsonData"]["password"].startswith("$__file{/run/secrets/")
    titles = [panel["title"] for panel in panels()]
    assert {"CO2 per room (ppm)", "Latest values", "Device health"} <= set(titles)
    for panel in panels():
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"]
            relations = re.findall(r"\b(?:FROM|JOIN)\s+([\w.]+)", target["rawSql"], re.I)
            assert relations and all(r.startswith("reporting.") for r in relations), relations


@postgresql_only
def test_every_panel_runs_as_a_reporting_login_and_shows_its_organization_only(install):  # noqa: F811
    end = datetime.now(UTC) + timedelta(minutes=1)
    start = end - timedelta(hours=1)
    orgs = install.work["orgs"]
    for letter, login in install.logins.items():
        other = orgs["b" if letter == "a" else "a"]
        with install.connect(login) as connection:
            for panel in panels():
                for target in panel["targets"]:
                    cursor = connection.execute(expand(target["rawSql"], start, end))
                    columns = [column.name for column in cursor.description or []]
                    rows = cursor.fetchall()
                    title = panel["title"]
                    assert rows or title in MAY_BE_EMPTY, f"{login}: {title} is empty"
                    assert other["device"] not in repr(rows), (login, title)
                    if target["format"] == "time_series":
                        assert columns == ["time", "metric", "value"], title
                        assert {metric for _, metric, _ in rows} == {f"room {letter}"}, title
                    if title == "Latest values":
                        assert {row[0] for row in rows} == {orgs[letter]["device"]}
                        assert ("co2", 401.0) in {(row[2], row[3]) for row in rows}
                    if title == "Open alerts":
                        assert [row[4] for row in rows] == [f"CO2 high in room {letter}"]


def test_the_macros_expand_as_grafana_does():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    sql = expand("SELECT $__timeGroupAlias(m.ts, '5m') WHERE $__timeFilter(m.ts)", start, start)
    assert sql == (
        'SELECT floor(extract(epoch from m.ts)/300)*300 AS "time" WHERE m.ts BETWEEN '
        "'2026-01-01T00:00:00+00:00' AND '2026-01-01T00:00:00+00:00'"
    )
