"""The demo users through /sta/v1.1/ (issue 25, "Organizations"): alice owns Riverside
School and writes, bob inspects it and only reads, charlie owns Harbour Offices, the
anonymous public sees public installations' data. Another organization's entity behaves
exactly like a missing one through every path."""

# The fixtures are imported by name (tests/sensorthings/conformance_client.py) and
# requested as arguments, which ruff sees as unused imports and redefinitions.
# ruff: noqa: F401, F811

from datetime import UTC, datetime, timedelta

import pytest

from tests.sensorthings.conformance_client import (
    RELATIONS,
    Sta,
    alice,
    anonymous,
    bob,
    charlie,
    demo,
    thing_body,
    token,
)


def _family(sta, name: str) -> dict[str, int]:
    thing = sta.create("Things", thing_body(name, observations=2))
    tree = sta.get(
        f"Things({thing})",
        **{
            "$expand": "Locations,HistoricalLocations,Datastreams($expand=Sensor,ObservedProperty,"
            "Observations($expand=FeatureOfInterest))"
        },
    ).body
    stream = tree["Datastreams"][0]
    return {
        "Things": thing,
        "Locations": tree["Locations"][0]["@iot.id"],
        "HistoricalLocations": tree["HistoricalLocations"][0]["@iot.id"],
        "Datastreams": stream["@iot.id"],
        "Sensors": stream["Sensor"]["@iot.id"],
        "ObservedProperties": stream["ObservedProperty"]["@iot.id"],
        "Observations": stream["Observations"][0]["@iot.id"],
        "FeaturesOfInterest": stream["Observations"][0]["FeatureOfInterest"]["@iot.id"],
    }


@pytest.fixture
def families(alice, charlie):
    return _family(alice, "Riverside roof"), _family(charlie, "Harbour roof")


def _ids(answer) -> set[int]:
    return {entity["@iot.id"] for entity in answer.value}


def test_another_organizations_entity_is_missing_by_id_and_by_navigation(families, charlie):
    riverside, _ = families
    for entity_set, key in riverside.items():
        missing = charlie.get(f"{entity_set}({key})")
        assert missing.status == 404, (entity_set, missing.status)
        assert missing.body == charlie.get(f"{entity_set}(987654321)").body | {
            "message": missing.body["message"]
        }
        for relation in RELATIONS[entity_set]:
            assert charlie.get(f"{entity_set}({key})/{relation}").status == 404, (
                entity_set,
                relation,
            )
            assert charlie.get(f"{entity_set}({key})/{relation}/$ref").status == 404


def test_collections_counts_expand_and_filters_never_show_the_other_organization(
    families, charlie, alice
):
    riverside, harbour = families
    for entity_set in RELATIONS:
        theirs = charlie.get(entity_set, **{"$count": "true"})
        assert riverside[entity_set] not in _ids(theirs), entity_set
        assert harbour[entity_set] in _ids(theirs), entity_set
        assert theirs.body["@iot.count"] == len(charlie.all(entity_set)), entity_set
    # a Location or Sensor shared by nobody: the expand from charlie's side is his alone
    expanded = charlie.get(
        "Things", **{"$expand": "Datastreams($expand=Observations),Locations"}
    ).value
    seen = {o["@iot.id"] for t in expanded for d in t["Datastreams"] for o in d["Observations"]}
    assert riverside["Observations"] not in seen
    for expression in (
        "Datastream/Thing/name eq 'Riverside roof'",
        f"Datastream/@iot.id eq {riverside['Datastreams']}",
        f"Datastream/id eq {riverside['Datastreams']}",
        f"FeatureOfInterest/id eq {riverside['FeaturesOfInterest']}",
    ):
        answer = charlie.get("Observations", **{"$filter": expression, "$count": "true"})
        assert answer.status in (200, 400), expression
        if answer.status == 200:
            assert answer.value == [] and answer.body["@iot.count"] == 0, expression
    assert (
        charlie.get("Things", **{"$filter": "Datastreams/Observations/result eq 20"}).status == 200
    )
    hits = charlie.get("Things", **{"$filter": "Datastreams/Observations/result eq 20"}).value
    assert riverside["Things"] not in {t["@iot.id"] for t in hits}
    # alice sees hers and not charlie's, through the same paths
    assert harbour["Things"] not in _ids(alice.get("Things"))


def test_links_to_another_organizations_entities_are_refused_like_missing_ones(families, charlie):
    riverside, harbour = families
    attempts = [
        (
            "Observations",
            {
                "phenomenonTime": "2025-01-01T00:00:00Z",
                "result": 1,
                "Datastream": {"@iot.id": riverside["Datastreams"]},
            },
        ),
        (
            "Observations",
            {
                "phenomenonTime": "2025-01-01T00:00:00Z",
                "result": 1,
                "Datastream": {"@iot.id": harbour["Datastreams"]},
                "FeatureOfInterest": {"@iot.id": riverside["FeaturesOfInterest"]},
            },
        ),
        (
            "Datastreams",
            {
                "name": "d",
                "description": "d",
                "observationType": "x",
                "unitOfMeasurement": {"name": "n", "symbol": "s", "definition": "d"},
                "Thing": {"@iot.id": riverside["Things"]},
                "Sensor": {"@iot.id": harbour["Sensors"]},
                "ObservedProperty": {"@iot.id": harbour["ObservedProperties"]},
            },
        ),
        (
            "Datastreams",
            {
                "name": "d",
                "description": "d",
                "observationType": "x",
                "unitOfMeasurement": {"name": "n", "symbol": "s", "definition": "d"},
                "Thing": {"@iot.id": harbour["Things"]},
                "Sensor": {"@iot.id": riverside["Sensors"]},
                "ObservedProperty": {"@iot.id": riverside["ObservedProperties"]},
            },
        ),
        (
            "Things",
            {"name": "t", "description": "t", "Locations": [{"@iot.id": riverside["Locations"]}]},
        ),
        (
            f"Datastreams({riverside['Datastreams']})/Observations",
            {"phenomenonTime": "2025-01-01T00:00:00Z", "result": 1},
        ),
    ]
    for url, body in attempts:
        answer = charlie.post(url, body)
        assert answer.status in (400, 404), (url, answer.status, answer.text[:300])
    link = charlie.patch(
        f"Things({harbour['Things']})", {"Locations": [{"@iot.id": riverside["Locations"]}]}
    )
    assert link.status in (400, 404)
    for entity_set, key in riverside.items():
        assert charlie.patch(f"{entity_set}({key})", {"name": "taken"}).status == 404, entity_set
        assert charlie.delete(f"{entity_set}({key})").status == 404, entity_set
    assert charlie.post(
        f"Things({riverside['Things']})/Locations/$ref", {"@iot.id": harbour["Locations"]}
    ).status in (400, 404)


def test_an_inspector_reads_and_every_write_is_403(families, bob):
    riverside, harbour = families
    assert bob.get(f"Things({riverside['Things']})").status == 200
    assert bob.get(f"Things({harbour['Things']})").status == 404
    assert bob.post("Things", {"name": "t", "description": "t"}).status == 403
    assert (
        bob.post(
            "Observations",
            {
                "phenomenonTime": "2025-01-01T00:00:00Z",
                "result": 1,
                "Datastream": {"@iot.id": riverside["Datastreams"]},
            },
        ).status
        == 403
    )
    valid = {"HistoricalLocations": {"time": "2026-01-02T00:00:00Z"}, "Observations": {"result": 3}}
    for entity_set, key in riverside.items():
        body = valid.get(entity_set, {"description": "x"})
        assert bob.patch(f"{entity_set}({key})", body).status == 403, entity_set
        assert bob.delete(f"{entity_set}({key})").status == 403, entity_set
    assert (
        bob.put(f"Things({riverside['Things']})", {"name": "x", "description": "x"}).status == 403
    )
    assert bob.get(f"Things({riverside['Things']})").body["name"] == "Riverside roof"


def test_the_anonymous_public_sees_public_installations_only_and_cannot_write(
    families, anonymous, alice
):
    riverside, _ = families
    names = {t["name"] for t in anonymous.all("Things")}
    assert "Classroom 1 monitor" in names or any("demo-co2-001" in n for n in names)
    assert not any("Classroom 2" in n or "demo-co2-002" in n for n in names)
    assert "Riverside roof" not in names and "Harbour roof" not in names
    for entity_set, key in riverside.items():
        assert anonymous.get(f"{entity_set}({key})").status == 404, entity_set
    answer = anonymous.post("Things", {"name": "t", "description": "t"})
    assert answer.status in (401, 403)
    assert answer.body["message"]


def test_a_demo_node_is_a_thing_with_a_datastream_per_quantity_and_its_samples_are_observations(
    alice, anonymous
):
    from sensorgrid.ingest import writer
    from sensorgrid.ingest.validate import Row
    from sensorgrid.inventory.models import Node, Quantity

    node = Node.objects.get(device_id="demo-co2-001")
    co2 = Quantity.objects.get(key="co2")
    moment = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    writer.write([Row(node.pk, co2.pk, moment + timedelta(minutes=i), 400.0 + i) for i in range(5)])
    thing = alice.get(
        f"Things({node.pk})", **{"$expand": "Datastreams($expand=ObservedProperty),Locations"}
    )
    assert thing.status == 200, thing.text[:300]
    assert thing.body["name"] == node.alias or thing.body["name"] == node.device_id
    quantities = {d["ObservedProperty"]["name"] for d in thing.body["Datastreams"]}
    assert len(thing.body["Datastreams"]) >= 3, quantities
    stream = next(d for d in thing.body["Datastreams"] if d["ObservedProperty"]["name"] == co2.name)
    assert stream["unitOfMeasurement"]["symbol"] == co2.unit
    observations = alice.get(
        f"Datastreams({stream['@iot.id']})/Observations",
        **{"$orderby": "phenomenonTime", "$count": "true"},
    )
    assert observations.body["@iot.count"] == 5
    assert [o["result"] for o in observations.value] == [400, 401, 402, 403, 404]
    assert all(type(o["result"]) is int for o in observations.value)
    assert thing.body["Locations"], "the site's Location"
    # the public sees this node's samples: its installation is public since 2026-01-01
    public = anonymous.get(f"Datastreams({stream['@iot.id']})/Observations", **{"$count": "true"})
    assert public.status == 200 and public.body["@iot.count"] == 5


def test_an_observation_posted_to_a_samples_datastream_is_a_sample(alice):
    from sensorgrid.inventory.models import Node, Quantity
    from sensorgrid.telemetry.models import Sample

    node = Node.objects.get(device_id="demo-co2-002")
    co2 = Quantity.objects.get(key="co2")
    streams = alice.get(f"Things({node.pk})/Datastreams", **{"$expand": "ObservedProperty"}).value
    stream = next(d for d in streams if d["ObservedProperty"]["name"] == co2.name)
    answer = alice.post(
        "Observations",
        {
            "phenomenonTime": "2026-03-02T09:00:00Z",
            "result": 812,
            "Datastream": {"@iot.id": stream["@iot.id"]},
        },
    )
    assert answer.status == 201, answer.text[:300]
    assert Sample.objects.filter(
        node=node, ts=datetime(2026, 3, 2, 9, tzinfo=UTC), value=812
    ).exists()
    refused = alice.post(
        "Observations",
        {
            "phenomenonTime": "2026-03-02T09:01:00Z",
            "result": "high",
            "Datastream": {"@iot.id": stream["@iot.id"]},
        },
    )
    assert refused.status == 400 and "number" in refused.body["message"].lower()


def test_a_member_of_two_organizations_chooses_with_the_header(demo):
    from sensorgrid.tenancy.models import Membership, Organization, Role, User

    dora = User.objects.create_user("dora", password="x")
    for slug in ("riverside-school", "harbour-offices"):
        Membership.objects.create(
            user=dora, organization=Organization.objects.get(slug=slug), role=Role.OWNER
        )
    key = token("dora")
    unsure = Sta(key).post(
        "Sensors", {"name": "s", "description": "s", "encodingType": "text/plain", "metadata": "m"}
    )
    assert unsure.status == 400
    assert "X-SensorGrid-Organization" in unsure.body["message"]
    sure = Sta(key, HTTP_X_SENSORGRID_ORGANIZATION="harbour-offices")
    sensor = sure.create(
        "Sensors",
        {"name": "dora's", "description": "s", "encodingType": "text/plain", "metadata": "m"},
    )
    assert Sta(token("charlie")).get(f"Sensors({sensor})").status == 200
    assert Sta(token("alice")).get(f"Sensors({sensor})").status == 404


def test_basic_auth_with_username_and_password_is_accepted(demo):
    import base64

    credentials = base64.b64encode(b"alice:demo-password").decode()
    basic = Sta(HTTP_AUTHORIZATION=f"Basic {credentials}")
    created = basic.post(
        "Sensors",
        {"name": "basic", "description": "s", "encodingType": "text/plain", "metadata": "m"},
    )
    assert created.status == 201, created.text[:300]
    wrong = Sta(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"alice:wrong").decode())
    assert wrong.get("Things").status == 401
