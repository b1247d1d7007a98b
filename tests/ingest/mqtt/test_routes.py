import pytest

from sensorgrid.env import ConfigurationError
from sensorgrid.ingest.models import MqttRoute
from sensorgrid.ingest.mqtt import broker, config
from sensorgrid.ingest.mqtt.routes import Route, RouteError, RouteTable, check


def table(*patterns: str) -> RouteTable:
    return RouteTable(Route(pattern, f"d{i}") for i, pattern in enumerate(patterns))


def matched(routes: RouteTable, topic: str) -> tuple[str, str] | None:
    match = routes.match(topic)
    return (match.route.decoder, match.device) if match else None


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("sensorgrid/{device}/up", "sensorgrid/co2-7/up", ("d0", "co2-7")),
        ("sensorgrid/{device}/up", "sensorgrid/co2-7/down", None),
        ("sensorgrid/{device}/up", "sensorgrid/co2-7/up/more", None),
        ("a/+/c", "a//c", ("d0", "")),  # + matches an empty level
        ("kpi/{device}/#", "kpi/client-1", ("d0", "client-1")),  # # matches no level too
        ("kpi/{device}/#", "kpi/client-1/x/y", ("d0", "client-1")),
        ("/kpi/#", "/kpi/anything/deep", ("d0", "")),
        ("/kpi/#", "kpi/anything", None),  # the leading empty level counts
        ("#", "$SYS/broker/load", None),  # $ topics are not matched by wildcards
        ("+/broker/load", "$SYS/broker/load", None),
        ("$SYS/#", "$SYS/broker/load", ("d0", "")),
        ("exact/topic", "exact/topic", ("d0", "")),
        ("exact/topic", "Exact/topic", None),  # topics are case-sensitive
        # A topic name with a wildcard is not a topic (MQTT 4.7.1): it names no device.
        ("sensorgrid/{device}/up", "sensorgrid/+/up", None),
        ("sensorgrid/{device}/up", "sensorgrid/co2-7+/up", None),
        ("v3/+/devices/{device}/up", "v3/app@ttn/devices/#", None),
        ("#", "a/+/c", None),
        ("#", "#", None),
    ],
)
def test_topics_match_with_mqtt_semantics(pattern, topic, expected):
    assert matched(table(pattern), topic) == expected


def test_an_exact_topic_wins_over_an_earlier_wildcard_and_wildcards_keep_table_order():
    routes = table("a/#", "a/+/c", "a/b/c")
    assert matched(routes, "a/b/c") == ("d2", "")
    assert matched(routes, "a/x/c") == ("d0", "")


def test_subscriptions_are_the_filters_with_device_levels_as_plus_each_once():
    routes = table("sensorgrid/{device}/up", "sensorgrid/+/up", "kpi/#")
    assert routes.subscriptions() == ["sensorgrid/+/up", "kpi/#"]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "cannot be empty"),
        ("a/#/b", "'#' must be the last level"),
        ("a/b+/c", "a wildcard must fill a whole level"),
        ("{device}/{device}", "at most one {device} level"),
    ],
)
def test_invalid_filters_are_refused_with_the_reason(pattern, message):
    with pytest.raises(RouteError, match=message.replace("{", r"\{").replace("}", r"\}")):
        check(pattern)


def test_admin_routes_come_before_the_settings_routes(db, settings):
    settings.SENSORGRID_MQTT_ROUTES = ["acme/#=json"]
    MqttRoute.objects.create(pattern="acme/special/{device}", decoder="managair")
    MqttRoute.objects.create(pattern="acme/off/#", decoder="managair", enabled=False)
    routes = config.route_table()
    assert [route.pattern for route in routes.routes] == ["acme/special/{device}", "acme/#"]
    assert matched(routes, "acme/special/n1") == ("managair", "n1")
    assert matched(routes, "acme/off/n1") == ("json", "")


def test_a_route_to_an_unknown_decoder_stops_the_service_with_a_clear_error(db, settings):
    settings.SENSORGRID_MQTT_ROUTES = ["a/#=nope"]
    with pytest.raises(ConfigurationError, match="unknown decoders nope"):
        config.route_table()
    settings.SENSORGRID_MQTT_ROUTES = ["no-equals-sign"]
    with pytest.raises(ConfigurationError, match="write it as topic/filter=decoder"):
        config.route_table()


def test_the_admin_validates_route_rows(db):
    route = MqttRoute(pattern="a/#/b", decoder="nope")
    with pytest.raises(Exception) as error:
        route.full_clean()
    assert set(error.value.message_dict) == {"pattern", "decoder"}


def test_the_builtin_routes_all_name_registered_decoders(db):
    routes = config.route_table()
    assert {route.decoder for route in routes.routes} == {
        "json",
        "kpi",
        "vehicle",
        "ttn",
        "chirpstack",
        "chirpstack_v3",
        "image",  # pictures (the images app registers it)
    }
    assert matched(routes, "sensorgrid/cam-1/image/door") == ("image", "cam-1")
    assert matched(routes, "/images/door/cam-1") == ("image", "cam-1")
    assert matched(routes, "v3/app@tenant/devices/dev-1/up")[0] == "ttn"
    assert matched(routes, "application/7/device/0101/event/up")[0] == "chirpstack"
    assert matched(routes, "application/7/device/0101/rx")[0] == "chirpstack_v3"
    assert matched(routes, "device/data/truck-9") == ("vehicle", "truck-9")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://broker.example:1884", ("broker.example", 1884, False, None, None)),
        ("mqtts://u%40x:p%3Aw@broker.example", ("broker.example", 8883, True, "u@x", "p:w")),
        ("mqtt://127.0.0.1", ("127.0.0.1", 1883, False, None, None)),
    ],
)
def test_broker_urls(url, expected):
    parsed = broker.parse(url)
    assert (parsed.host, parsed.port, parsed.tls, parsed.username, parsed.password) == expected
    assert "p:w" not in parsed.display


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://broker", "scheme must be mqtt"),
        ("mqtt://broker:notaport", "port is not a number"),
        ("mqtt://", "no host"),
    ],
)
def test_bad_broker_urls_say_what_is_wrong(url, message):
    with pytest.raises(ConfigurationError, match=message):
        broker.parse(url)


def test_a_client_certificate_needs_its_key():
    with pytest.raises(ConfigurationError, match="both the cert and the key"):
        broker.parse("mqtts://b", cert_file="/c.pem")
    assert broker.parse("mqtt://b", ca_file="/ca.pem").tls
