"""The SensorThings API as an STA client sees it, for the black-box conformance tests.

Every request goes through HTTP (Django's test client) with the demo users' API tokens,
the way the OGC suite, FROST-Server's test module and frost-sta-client talk to a server;
no test here reads the SensorThings tables directly.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

ROOT = "/sta/v1.1"
HOST = "http://testserver"
PASSWORD = "demo-password"

#: Every entity set of the core, and its navigation properties (OGC 18-088, section 8).
RELATIONS: dict[str, dict[str, str]] = {
    "Things": {
        "Datastreams": "Datastreams",
        "HistoricalLocations": "HistoricalLocations",
        "Locations": "Locations",
    },
    "Locations": {"HistoricalLocations": "HistoricalLocations", "Things": "Things"},
    "HistoricalLocations": {"Thing": "Things", "Locations": "Locations"},
    "Datastreams": {
        "Thing": "Things",
        "Sensor": "Sensors",
        "ObservedProperty": "ObservedProperties",
        "Observations": "Observations",
    },
    "Sensors": {"Datastreams": "Datastreams"},
    "ObservedProperties": {"Datastreams": "Datastreams"},
    "Observations": {"Datastream": "Datastreams", "FeatureOfInterest": "FeaturesOfInterest"},
    "FeaturesOfInterest": {"Observations": "Observations"},
}

#: Properties every entity carries (the key, even when its value is null).
MANDATORY: dict[str, list[str]] = {
    "Things": ["name", "description"],
    "Locations": ["name", "description", "encodingType", "location"],
    "HistoricalLocations": ["time"],
    "Datastreams": ["name", "description", "unitOfMeasurement", "observationType"],
    "Sensors": ["name", "description", "encodingType", "metadata"],
    "ObservedProperties": ["name", "definition", "description"],
    "Observations": ["phenomenonTime", "result", "resultTime"],
    "FeaturesOfInterest": ["name", "description", "encodingType", "feature"],
}

UNIT = {
    "name": "degree Celsius",
    "symbol": "degC",
    "definition": "http://qudt.org/vocab/unit#DegreeCelsius",
}
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
POINT = {"type": "Point", "coordinates": [11.5761, 48.1351]}


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def value(self) -> list[dict]:
        assert self.status == 200, (self.status, self.text[:500])
        return self.body["value"]

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    @property
    def new_id(self) -> int:
        """The id in the Location header, parsed as frost-sta-client does."""
        assert self.status == 201, (self.status, self.text[:500])
        link = self.location
        return int(link[link.find("(") + 1 : link.find(")")])


class Sta:
    """One STA user: ``Token`` auth (or anonymous), JSON in and out."""

    def __init__(self, token: str | None = None, **headers: str) -> None:
        extra = dict(headers)
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Token {token}"
        self.client = Client(**extra)

    @staticmethod
    def path(url: str) -> str:
        if url.startswith("http"):
            parts = urlsplit(url)
            return parts.path + (f"?{parts.query}" if parts.query else "")
        if url.startswith("/"):
            return url
        return f"{ROOT}/{url}"

    def _answer(self, response) -> Answer:
        text = response.content.decode() if response.content else ""
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        headers = {k: v for k, v in response.headers.items()}
        return Answer(response.status_code, body, headers, text)

    def get(self, url: str, **params: str) -> Answer:
        return self._answer(self.client.get(self.path(url), params or None))

    def post(self, url: str, body: Any, content_type: str = "application/json") -> Answer:
        data = body if isinstance(body, str) else json.dumps(body)
        return self._answer(self.client.post(self.path(url), data, content_type=content_type))

    def patch(self, url: str, body: Any, content_type: str = "application/json") -> Answer:
        data = body if isinstance(body, str) else json.dumps(body)
        return self._answer(self.client.patch(self.path(url), data, content_type=content_type))

    def put(self, url: str, body: Any) -> Answer:
        return self._answer(
            self.client.put(self.path(url), json.dumps(body), content_type="application/json")
        )

    def delete(self, url: str) -> Answer:
        return self._answer(self.client.delete(self.path(url)))

    def create(self, url: str, body: Any) -> int:
        answer = self.post(url, body)
        assert answer.status == 201, (url, answer.status, answer.text[:800])
        return answer.new_id

    def all(self, url: str, **params: str) -> list[dict]:
        """Every entity of a collection, following @iot.nextLink."""
        answer = self.get(url, **params)
        entities = list(answer.value)
        pages = 1
        while "@iot.nextLink" in answer.body:
            answer = self.get(answer.body["@iot.nextLink"])
            entities += answer.value
            pages += 1
            assert pages < 1000, "nextLink never ends"
        return entities


def check_filter(sta: Sta, url: str, flt: str, mine: list[int], *expected: int) -> None:
    """FROST's filterAndCheck: ``url`` filtered by ``flt`` finds, of the entities ``mine``
    (ids, in the order the test made them), exactly those at the indexes ``expected``;
    a failure names the indexes it found."""
    answer = sta.get(f"{url}?$filter={quote(flt)}&$top=1000")
    assert answer.status == 200, (flt, answer.status, answer.text[:300])
    got = {e["@iot.id"] for e in answer.value} & set(mine)
    want = {mine[i] for i in expected}
    index = {v: i for i, v in enumerate(mine)}
    assert got == want, (flt, sorted(index[g] for g in got), sorted(expected))


def token(username: str) -> str:
    from sensorgrid.accounts.models import ApiToken
    from sensorgrid.tenancy.models import User

    _, key = ApiToken.objects.issue(User.objects.get(username=username), "sta conformance")
    return key


@pytest.fixture
def demo(db):
    """The demo world (Riverside School: alice owner, bob inspector; Harbour Offices:
    charlie), as `sensorgrid loaddemo` makes it."""
    call_command("loaddemo", "--password", PASSWORD)


@pytest.fixture
def alice(demo) -> Sta:
    return Sta(token("alice"))


@pytest.fixture
def bob(demo) -> Sta:
    return Sta(token("bob"))


@pytest.fixture
def charlie(demo) -> Sta:
    return Sta(token("charlie"))


@pytest.fixture
def anonymous(demo) -> Sta:
    return Sta()


def thing_body(name: str = "Weather station", observations: int = 0, **extra: Any) -> dict:
    """A Thing with one Location and one Datastream (new Sensor, new ObservedProperty),
    and ``observations`` Observations one minute apart, as one deep insert."""
    start = datetime(2025, 3, 1, tzinfo=UTC)
    return {
        "name": name,
        "description": f"{name} on the roof",
        "properties": {"owner": "conformance", "floor": 3, "tags": ["roof", "test"]},
        "Locations": [
            {
                "name": f"{name} location",
                "description": "the roof",
                "encodingType": "application/geo+json",
                "location": POINT,
            }
        ],
        "Datastreams": [
            {
                "name": f"{name} air temperature",
                "description": "air temperature 2 m above the roof",
                "observationType": MEASUREMENT,
                "unitOfMeasurement": UNIT,
                "Sensor": {
                    "name": f"{name} thermometer",
                    "description": "PT100",
                    "encodingType": "application/pdf",
                    "metadata": "https://example.org/pt100.pdf",
                },
                "ObservedProperty": {
                    "name": f"{name} air temperature",
                    "definition": "http://dbpedia.org/page/Temperature",
                    "description": "air temperature",
                },
                "Observations": [
                    {
                        "phenomenonTime": iso(start + timedelta(minutes=i)),
                        "result": 20 + i,
                    }
                    for i in range(observations)
                ],
            }
        ],
        **extra,
    }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def same_instant(a: str, b: str) -> bool:
    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return parse(a) == parse(b)


def json_batch(thing: int) -> dict:
    """FROST's JSON batch (BatchTests, test 6): a GET of ``thing``'s name, a POST of a new
    Thing and a PATCH renaming ``thing`` to "Json Patched" in one atomicity group, and a
    GET of ``Things(null)``, which fails alone; ids "0" to "3"."""
    return {
        "requests": [
            {"id": "0", "method": "get", "url": f"Things({thing})?$select=name"},
            {
                "id": "1",
                "atomicityGroup": "group1",
                "method": "post",
                "url": "Things",
                "body": {"name": "New", "description": "Thing"},
            },
            {
                "id": "2",
                "atomicityGroup": "group1",
                "method": "patch",
                "url": f"Things({thing})",
                "body": {"name": "Json Patched"},
            },
            {"id": "3", "method": "get", "url": "Things(null)"},
        ]
    }


def json_batch_referencing(thing: int, observed_property: int) -> dict:
    """FROST's JSON change set (BatchTests, test 7): a Sensor posted as "sensor1" and a
    Datastream of ``thing`` that names it as ``$sensor1``; ids "sensor1" and "any"."""
    return {
        "requests": [
            {
                "id": "sensor1",
                "atomicityGroup": "group1",
                "method": "post",
                "url": "Sensors",
                "body": {
                    "name": "DS18B20",
                    "description": "DS18B20 is an air temperature sensor",
                    "encodingType": "application/pdf",
                    "metadata": "http://datasheets.maxim-ic.com/en/ds/DS18B20.pdf",
                },
            },
            {
                "id": "any",
                "atomicityGroup": "group1",
                "method": "post",
                "url": f"Things({thing})/Datastreams",
                "body": {
                    "name": "Temperature Thing 5",
                    "description": "The temperature of thing 5",
                    "unitOfMeasurement": {
                        "name": "degree Celsius",
                        "symbol": "°C",
                        "definition": "http://unitsofmeasure.org/ucum.html#para-30",
                    },
                    "observationType": "http://www.opengis.net/def/observationType/OGCOM/2.0/OM_Measurement",
                    "ObservedProperty": {"@iot.id": observed_property},
                    "Sensor": {"@iot.id": "$sensor1"},
                },
            },
        ]
    }
