"""Parsing the query options: the AST read-core walks, validation against the entity
sets, and a precise 400 for every malformed option (never another exception)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.query import ExpandItem, Options, OrderKey, Path, ast, parse_options
from sensorgrid.sensorthings.query.parse import parse_filter
from sensorgrid.sensorthings.schema import ENTITY_SETS

THINGS = ENTITY_SETS["Things"]


def options(query: str, entity_set=THINGS) -> Options:
    return parse_options(QueryDict(query), entity_set)


def error(query: str, entity_set=THINGS) -> str:
    with pytest.raises(StaError) as err:
        options(query, entity_set)
    assert err.value.status == 400
    return err.value.message


def test_option_names_in_any_case():
    got = options("$orderBy=name desc&$Top=2&$EXPAND=Datastreams($FILTER=id eq 1;$Top=1)")
    assert got.orderby == (OrderKey(Path(("name",)), True),)
    assert got.top == 2
    assert got.expand[0].options.top == 1 and got.expand[0].options.filter is not None


def test_no_options():
    assert options("") == Options()
    assert options("$resultFormat=dataArray") == Options()  # left to the caller


def test_top_skip_count():
    got = options("$top=5&$skip=10&$count=true")
    assert (got.top, got.skip, got.count) == (5, 10, True)
    assert options("$count=FALSE").count is False
    assert options("$top=0").top == 0
    assert "$top" in error("$top=-1") and "non-negative" in error("$top=-1")
    assert "$top" in error("$top=abc")
    assert "$skip" in error("$skip=1.5")
    assert "$count" in error("$count=yes")
    assert "more than once" in error("$top=1&$top=2")
    assert "more than once" in error("$top=1&$TOP=2")
    assert "too large" in error("$skip=99999999999999999999999")


def test_filter_ast():
    got = options("$filter=name eq 'It''s' and not (properties/floor gt 2)").filter
    assert got == ast.BoolOp(
        "and",
        ast.Compare("eq", Path(("name",)), ast.Literal("string", "It's")),
        ast.Not(ast.Compare("gt", Path(("properties", "floor")), ast.Literal("number", 2))),
    )


def test_json_array_indexes():
    got = parse_filter("properties/list[1]/a[0] eq 1")
    assert isinstance(got, ast.Compare)
    assert got.left == Path(("properties", "list", "[1]", "a", "[0]"))
    assert "not a JSON property" in error("$filter=name[0] eq 'a'")


def test_in_operator():
    # one list of literals: one SQL IN (…) later
    assert parse_filter("id in (1, 2)") == ast.Compare(
        "in",
        Path(("id",)),
        ast.Literal("list", (ast.Literal("number", 1), ast.Literal("number", 2))),
    )
    assert parse_filter("id in (1)") == ast.Compare("eq", Path(("id",)), ast.Literal("number", 1))
    # with a non-literal item: x eq a or x eq b
    assert parse_filter("id in (1, id)") == ast.BoolOp(
        "or",
        ast.Compare("eq", Path(("id",)), ast.Literal("number", 1)),
        ast.Compare("eq", Path(("id",)), Path(("id",))),
    )
    assert parse_filter("9 in properties/l") == ast.Compare(
        "in", ast.Literal("number", 9), Path(("properties", "l"))
    )


def test_operator_precedence():
    got = parse_filter("id add 2 mul 3 eq 8 or id eq 1 and id eq 2")
    assert got == ast.BoolOp(
        "or",
        ast.Compare(
            "eq",
            ast.Arith(
                "add",
                Path(("id",)),
                ast.Arith("mul", ast.Literal("number", 2), ast.Literal("number", 3)),
            ),
            ast.Literal("number", 8),
        ),
        ast.BoolOp(
            "and",
            ast.Compare("eq", Path(("id",)), ast.Literal("number", 1)),
            ast.Compare("eq", Path(("id",)), ast.Literal("number", 2)),
        ),
    )


def test_literals():
    def literal(text):
        node = parse_filter(f"id eq {text}")
        assert isinstance(node, ast.Compare)
        return node.right

    assert literal("-1.5e2") == ast.Literal("number", -150.0)
    assert literal("42") == ast.Literal("number", 42)
    assert literal("true") == ast.Literal("bool", True)
    assert literal("null") == ast.Literal("null", None)
    when = datetime(2020, 1, 1, tzinfo=UTC)
    assert literal("2020-01-01T01:00:00+01:00") == ast.Literal("datetime", when)
    assert literal("2020-01-01T00:00Z") == ast.Literal("datetime", when)
    assert literal("2020-01-01T00:00:00Z/2020-01-02T00:00:00Z") == ast.Literal(
        "interval", (when, when + timedelta(days=1))
    )
    assert literal("duration'P1DT2H30M'") == ast.Literal(
        "duration", timedelta(days=1, hours=2, minutes=30)
    )
    assert literal("geography'POINT(1 2)'") == ast.Literal("geography", "POINT(1 2)")
    assert literal("2020-01-01").kind == "date"
    assert literal("12:30:00").kind == "time"


def test_functions_and_case_insensitive_keywords():
    got = parse_filter(
        "ST_WITHIN(location, geography'POINT(1 2)') AND Geo.Distance(location, "
        "geography'POINT(1 2)') LT 3"
    )
    assert isinstance(got, ast.BoolOp) and got.op == "and"
    assert isinstance(got.left, ast.Call) and got.left.name == "st_within"


def test_orderby_keys():
    got = options("$orderby=name DESC,properties/a/b asc,id").orderby
    assert got == (
        OrderKey(Path(("name",)), True),
        OrderKey(Path(("properties", "a", "b")), False),
        OrderKey(Path(("id",)), False),
    )
    assert "'nme'" in error("$orderby=nme")
    assert "to-many" in error("$orderby=Datastreams/name")
    assert "$orderby" in error("$orderby=name sideways")


def test_select():
    assert options("$select=id,@iot.id,name,properties/a").select == (
        Path(("id",)),
        Path(("id",)),
        Path(("name",)),
        Path(("properties", "a")),
    )
    assert options("$select=Datastreams").select == (Path(("Datastreams",)),)
    assert "'nope'" in error("$select=name,nope")
    assert "JSON" in error("$select=name/a")


def test_expand_nested_options():
    got = options(
        "$expand=Datastreams($filter=name eq 'a;b';"
        "$expand=Observations($top=1;$orderby=phenomenonTime desc);$select=name,id;"
        "$top=2;$skip=1;$count=true)"
    ).expand
    observations = ExpandItem(
        "Observations",
        Options(top=1, orderby=(OrderKey(Path(("phenomenonTime",)), True),)),
    )
    assert got == (
        ExpandItem(
            "Datastreams",
            Options(
                top=2,
                skip=1,
                count=True,
                filter=ast.Compare("eq", Path(("name",)), ast.Literal("string", "a;b")),
                select=(Path(("name",)), Path(("id",))),
                expand=(observations,),
            ),
        ),
    )


def test_path_style_expand_merges():
    got = options("$expand=Datastreams/Observations,Datastreams/Sensor,Locations").expand
    assert [i.navigation for i in got] == ["Datastreams", "Locations"]
    assert [i.navigation for i in got[0].options.expand] == ["Observations", "Sensor"]
    got = options("$expand=Datastreams/Observations($top=1)", THINGS).expand
    assert got[0].options.expand[0].options.top == 1


def test_expand_validation():
    assert "'Sensors'" in error("$expand=Sensors")
    assert "'Nope'" in error("$expand=Datastreams/Nope")
    assert "'nme'" in error("$expand=Datastreams($filter=nme eq 1)")
    assert "'x'" in error("$expand=Datastreams($select=x)")
    assert "ends too early" in error("$expand=Datastreams($top=1")
    assert "twice" in error("$expand=Datastreams($top=1;$top=2)")
    observations = ENTITY_SETS["Observations"]
    assert options("$expand=Datastream/Thing/Locations", observations).expand


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("$filter=", "empty"),
        ("$filter=name eq", "ends too early"),
        ("$filter=name eq 'x", "position 9"),
        ("$filter=name eq 1 1", "unexpected '1' at position 11"),
        ("$filter=nosuch(name) eq 1", "unknown function 'nosuch'"),
        ("$filter=length(name, 2) eq 1", "takes 1 arguments, got 2"),
        ("$filter=phenomenonTime eq 2020-02-30T00:00:00Z", "not a valid value"),
        ("$filter=resultTime gt 2020-01-02T00:00:00Z/2020-01-01T00:00:00Z", "ends before"),
        ("$filter=resultTime gt now() sub duration'P1Y'", "not an ISO 8601 duration"),
        ("$filter=nme eq 1", "'nme'"),
        ("$filter=" + " and ".join(["id eq 1"] * 3000), "nested"),
        ("$filter=" + "not " * 3000 + "id eq 1", "nested"),
        ("$expand=" + "Datastreams/Thing/" * 20 + "Datastreams", "deeper than 10"),
    ],
)
def test_malformed_filters_say_what_and_where(query, words):
    assert words in error(query)


def test_parentheses_alone_do_not_nest():
    assert options("$filter=" + "(" * 2000 + "id eq 1" + ")" * 2000).filter == parse_filter(
        "id eq 1"
    )


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(["$filter", "$orderby", "$select", "$expand", "$top", "$skip", "$count"]),
    st.one_of(
        st.text(max_size=60),
        st.lists(
            st.sampled_from(
                [
                    "name",
                    "eq",
                    "'x'",
                    "(",
                    ")",
                    "and",
                    "not",
                    "/",
                    ",",
                    ";",
                    "$top=",
                    "1",
                    "Datastreams",
                    "substringof(",
                    "geography'POINT(1 2)'",
                    "2020-01-01T00:00Z",
                    "add",
                    " ",
                    "desc",
                    "$filter=",
                    "properties/a",
                    "null",
                    "-",
                    "@iot.id",
                ]
            ),
            max_size=12,
        ).map("".join),
    ),
)
def test_fuzz_only_sta_errors(option, text):
    """Random option values: parsed, or refused with a 400 — nothing else escapes."""
    try:
        parse_options({option: text}, THINGS)
    except StaError as err:
        assert err.status == 400
        assert err.message
