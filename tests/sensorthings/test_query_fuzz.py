"""Random well-formed and half-formed $filter/$orderby expressions run against the
database: each either gives rows or a 400, never another error (SQLite and PostgreSQL)."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.query import apply, parse_options
from sensorgrid.sensorthings.schema import ENTITY_SETS

pytestmark = pytest.mark.django_db

PATHS = [
    "id",
    "name",
    "description",
    "properties/a",
    "properties/a/b",
    "result",
    "properties/l",
    "phenomenonTime",
    "resultTime",
    "validTime",
    "parameters/x",
    "Datastream/name",
    "Datastream/Thing/name",
    "Datastreams/name",
    "Datastreams/Observations/result",
    "Thing/properties/x",
    "unitOfMeasurement/name",
    "location",
    "feature",
    "FeatureOfInterest/feature",
    "time",
]
LITERALS = [
    "1",
    "-2.5",
    "0",
    "'a'",
    "''",
    "'it''s'",
    "true",
    "false",
    "null",
    "2020-01-01T00:00:00Z",
    "2020-01-01T00:00:00Z/2021-01-01T00:00:00Z",
    "2020-01-01",
    "10:00:00",
    "duration'PT1H'",
    "geography'POINT(1 2)'",
    "geography'POLYGON((0 0, 1 0, 1 1, 0 0))'",
    "99999999999999999999",
    "1e308",
]
FUNCTIONS = {
    "substringof": 2,
    "endswith": 2,
    "startswith": 2,
    "length": 1,
    "indexof": 2,
    "substring": 3,
    "tolower": 1,
    "toupper": 1,
    "trim": 1,
    "concat": 2,
    "year": 1,
    "month": 1,
    "day": 1,
    "hour": 1,
    "minute": 1,
    "second": 1,
    "fractionalseconds": 1,
    "date": 1,
    "time": 1,
    "totaloffsetminutes": 1,
    "now": 0,
    "mindatetime": 0,
    "maxdatetime": 0,
    "round": 1,
    "floor": 1,
    "ceiling": 1,
    "geo.distance": 2,
    "geo.length": 1,
    "geo.intersects": 2,
    "st_within": 2,
    "st_disjoint": 2,
    "st_relate": 3,
}

atoms = st.sampled_from(PATHS + LITERALS)


def _combine(children):
    binary = st.tuples(
        children,
        st.sampled_from(
            [
                "eq",
                "ne",
                "gt",
                "ge",
                "lt",
                "le",
                "add",
                "sub",
                "mul",
                "div",
                "mod",
                "and",
                "or",
                "in",
            ]
        ),
        children,
    ).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
    call = st.sampled_from(sorted(FUNCTIONS)).flatmap(
        lambda f: st.lists(children, min_size=FUNCTIONS[f], max_size=FUNCTIONS[f]).map(
            lambda args: f"{f}({', '.join(args)})"
        )
    )
    return st.one_of(
        binary, call, children.map(lambda c: f"not ({c})"), children.map(lambda c: f"({c})")
    )


expressions = st.recursive(atoms, _combine, max_leaves=6)


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(["Things", "Observations", "Datastreams", "Locations"]),
    expressions,
    st.sampled_from(["$filter", "$orderby"]),
)
def test_random_expressions_give_rows_or_400(world, sta, entity_set, text, option):
    es = ENTITY_SETS[entity_set]
    try:
        options = parse_options({option: text}, es)
        with transaction.atomic():
            list(apply(es.queryset(), es, options)[:3])
    except StaError as err:
        assert err.status in (400, 501), err.message


EDGES = [
    ("Observations", "result mul 1e308 mul 1e308 gt 1"),  # a double would overflow
    ("Observations", "1e308 mul 1e308 gt 1"),
    ("Things", "substring(name, 99999999999999999999) eq 'a'"),  # beyond an integer
    ("Things", "substring(name, 1e300) eq 'a'"),
    ("Things", "substring(name, -5, -3) eq ''"),
    ("Observations", "phenomenonTime add duration'P9999999D' gt now()"),  # beyond year 9999
    ("Observations", "maxdatetime() add duration'P1D' gt phenomenonTime"),
    ("Things", "length(name) mul 99999999999999999999 gt 1"),
    ("Things", "id add 4611686018427387903 gt 1"),
    ("Observations", "round(result mul 1e300) gt 1"),
    ("Observations", "result mod 0.0 eq 1"),
    ("Observations", "result div 0 eq 1"),
    ("Observations", "phenomenonTime eq 0001-01-01T00:00:00Z"),
    ("Things", "properties/a/b/c eq 1e-320"),
    ("Things", "properties/a eq properties/b"),
    ("Observations", "second(validTime) eq 1"),
]


@pytest.mark.parametrize(("entity_set", "text"), EDGES)
def test_edge_values_give_rows_or_400(world, sta, entity_set, text):
    es = ENTITY_SETS[entity_set]
    try:
        list(apply(es.queryset(), es, parse_options({"$filter": text}, es))[:3])
    except StaError as err:
        assert err.status == 400, err.message
