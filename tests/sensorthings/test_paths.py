"""Resource paths (paths.py): what each path names, and the answer for what it cannot."""

import pytest

from sensorgrid.sensorthings import paths
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.schema import DATASTREAMS, OBSERVATIONS, THINGS


def test_a_collection_an_entity_and_a_nested_navigation():
    assert paths.parse("Things").is_collection
    one = paths.parse("Things(12)")
    assert one.target.entity_set is THINGS and one.target.key == 12
    assert not one.is_collection
    nested = paths.parse("Things(1)/Datastreams(2)/Observations")
    assert [s.entity_set for s in nested.segments] == [THINGS, DATASTREAMS, OBSERVATIONS]
    assert [s.key for s in nested.segments] == [1, 2, None]
    assert nested.is_collection and str(nested) == "Things(1)/Datastreams(2)/Observations"


def test_a_to_one_navigation_continues_the_path():
    path = paths.parse("Datastreams(5)/Thing/Locations(3)/HistoricalLocations")
    assert [str(s) for s in path.segments] == [
        "Datastreams(5)",
        "Thing",
        "Locations(3)",
        "HistoricalLocations",
    ]
    assert not paths.parse("Observations(1)/Datastream").is_collection


def test_property_value_and_ref():
    prop = paths.parse("Things(1)/name")
    assert prop.property_name == "name" and not prop.value and not prop.is_collection
    assert paths.parse("Things(1)/name/$value").value
    assert paths.parse("Things(1)/Datastreams/$ref").ref
    assert paths.parse("Things(1)/Datastreams/$ref").is_collection
    assert paths.parse("Datastreams(1)/Thing/$ref").ref
    assert str(paths.parse("Things/")) == "Things"


@pytest.mark.parametrize(
    "path",
    [
        "Thingz",
        "Things(1)/Nothing",
        "Things(1)/name/more",
        "Things('1')",
        "Things(abc)",
        "Things(-1)",
        "Things(1.5)",
        "Things(9223372036854775808)",
        "Things(99999999999999999999999)",
        "Things(1",
        "Things(1)x",
        "Things(١)",  # an Arabic-Indic digit is no id
    ],
)
def test_names_and_keys_that_cannot_exist_are_404(path):
    with pytest.raises(StaError) as caught:
        paths.parse(path)
    assert caught.value.status == 404, caught.value.message


@pytest.mark.parametrize(
    "path",
    [
        "",
        "Things/Datastreams",
        "Things(1)/$value",
        "Things(1)/name/$ref",
        "Things(1)/$ref/Datastreams",
        "Datastreams(1)/Thing(2)",
        "Things(1)/name/$value/$value",
        "/".join(["Things(1)/Datastreams(1)/Thing"] * 10),
    ],
)
def test_a_path_that_breaks_the_grammar_is_400(path):
    with pytest.raises(StaError) as caught:
        paths.parse(path)
    assert caught.value.status == 400, caught.value.message


def test_the_largest_id_parses():
    assert paths.parse("Observations(9223372036854775807)").target.key == 2**63 - 1


def test_json_properties_take_a_path_of_keys_and_indexes():
    path = paths.parse("Things(1)/properties/a/b[2][0]/c")
    assert path.property_name == "properties"
    assert path.json_path == ("a", "b", 2, 0, "c") and path.json_name == "c"
    assert str(path) == "Things(1)/properties/a/b[2][0]/c"
    assert paths.parse("Things(1)/properties/a/$value").value
    for bad in ("Things(1)/name/a", "Things(1)/properties/a[x]", "Things(1)/properties/[1]"):
        with pytest.raises(StaError) as caught:
            paths.parse(bad)
        assert caught.value.status == 404
