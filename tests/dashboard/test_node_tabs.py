"""The node page's tabs (issue 19) with the Django test client: each tab with real data
(receptions, health changes, dead letters, alerts from tests/factories.py), the tab
bar, and the wall: members see every tab, inspectors without anything that changes
things, everybody else the 404. In a browser: test_node_tabs_browser.py."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import NoReverseMatch, reverse

from sensorgrid.dashboard.lists import table
from sensorgrid.dashboard.node_pages import radio, status
from sensorgrid.dashboard.node_pages.tabs import TABS, node_tabs
from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry.models import Latest
from tests import factories as f

pytestmark = pytest.mark.django_db

#: The tabs this package serves (settings and connect are pages of their own).
OWN_TABS = ["latest", "history", "alerts", "status", "radio", "images", "dead-letters"]
T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)


def text(response) -> str:
    return response.content.decode()


def tab_url(node, key: str) -> str:
    name = next(name for k, _, name in TABS if k == key)
    return reverse(name, args=[node.pk])


def tab_bar(body: str) -> list[tuple[str, bool]]:
    """(label, current) of each tab in the page's tab bar."""
    nav = re.search(
        r'<nav class="node-tabs" aria-label="Pages of this node">(.*?)</nav>', body, re.S
    )
    assert nav, "the page has the tab bar"
    links = re.findall(
        r"<a href=\"[^\"]+\" data-tab=\"[^\"]+\"( aria-current=\"page\")?>([^<]+)</a>", nav.group(1)
    )
    return [(label, bool(current)) for current, label in links]


def post_forms(body: str) -> list[str]:
    """Where the page's POST forms go (the header's logout is on every page)."""
    return [
        action
        for action in re.findall(r'<form method="post" action="([^"]+)"', body)
        if action != reverse("dashboard:logout")
    ]


@pytest.fixture
def alice(client, world):
    client.force_login(world.alice)
    return client


# -- the tab bar ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", [*OWN_TABS, "settings"])
def test_every_tab_shows_the_same_bar_with_itself_current(alice, world, key):
    response = alice.get(tab_url(world.node_a, key))
    assert response.status_code == 200
    bar = tab_bar(text(response))
    labels = [label for label, _ in bar]
    assert labels[:8] == [
        "Latest",
        "History",
        "Alerts",
        "Status history",
        "Radio",
        "Images",
        "Dead letters",
        "Settings",
    ]
    current = next(label for k, label, _ in TABS if k == key)
    assert [label for label, is_current in bar if is_current] == [current]


def test_the_connect_tab_appears_once_its_page_exists(world):
    keys = [tab.key for tab in node_tabs(world.node_a, "latest")]
    try:
        reverse("dashboard:node-connect", args=[world.node_a.pk])
    except NoReverseMatch:  # the connect page is another module's, maybe not there yet
        assert "connect" not in keys
    else:
        assert keys[-1] == "connect"


# -- each tab with its data ----------------------------------------------------------------


def test_latest_shows_facts_live_values_and_open_alerts_but_no_chart(alice, world):
    f.AlertFactory(node=world.node_a, message="secretA CO2 too high")
    f.AlertFactory(node=world.node_a, message="long gone", resolved_at=T0)
    body = text(alice.get(f"/nodes/{world.node_a.pk}/"))
    assert "<code>secretA-node</code>" in body
    assert f'<article class="tile" data-node="{world.node_a.pk}"' in body
    assert "secretA CO2 too high" in body and "long gone" not in body
    assert 'id="chart"' not in body
    assert f'href="/nodes/{world.node_a.pk}/history/"' in body


def test_history_has_the_chart_and_its_configuration(alice, world):
    # A node that sent something (one that never did gets the Connect hint instead:
    # test_connect_hint.py).
    co2 = Quantity.objects.get(key="co2")
    Latest.objects.create(node=world.node_a, quantity=co2, ts=T0, value=640)
    response = alice.get(f"/nodes/{world.node_a.pk}/history/")
    body = text(response)
    assert '<figure id="chart"' in body and 'id="node-config"' in body
    config = response.context["config"]
    assert config["timeseries"] == f"/api/v1/nodes/{world.node_a.pk}/timeseries/"
    assert config["node"] == world.node_a.pk


def test_alerts_lists_open_and_resolved_alerts_of_this_node_only(alice, world):
    other = f.NodeFactory(organization=world.org_a, device_id="secretA-other")
    f.AlertFactory(node=world.node_a, message="open one")
    f.AlertFactory(node=world.node_a, message="closed one", resolved_at=T0)
    f.AlertFactory(node=other, message="another node's")
    body = text(alice.get(f"/nodes/{world.node_a.pk}/alerts/"))
    opened = body.index('data-alerts="open"')
    resolved = body.index('data-alerts="resolved"')
    assert opened < body.index("open one") < resolved < body.index("closed one")
    assert "another node&#x27;s" not in body and "another node's" not in body
    assert ">Acknowledge</button>" in body  # alice owns org A


def test_status_history_lists_transitions_newest_first_with_how_long_each_lasted(alice, world):
    for n, (old, new) in enumerate(
        [("UNKNOWN", "ALIVE"), ("ALIVE", "MISSING"), ("MISSING", "DEAD")]
    ):
        f.NodeStatusChangeFactory(
            node=world.node_a, from_status=old, to_status=new, at=T0 + timedelta(hours=n * 3)
        )
    f.NodeStatusChangeFactory(node=world.node_b, from_status="ALIVE", to_status="DEAD", at=T0)
    body = text(alice.get(f"/nodes/{world.node_a.pk}/status/"))
    rows = re.findall(
        r'<tr data-change="\d+">\s*<th scope="row"><time datetime="[^"]+">([^<]+)</time></th>'
        r".*?data-status[^>]*>(\w+)</span>.*?data-status[^>]*>(\w+)</span>.*?"
        r'<td class="number">([^<]+)',
        body,
        re.S,
    )
    assert rows[0][:3] == ("2026-03-01 14:00:00", "MISSING", "DEAD")
    assert rows[1:] == [
        ("2026-03-01 11:00:00", "ALIVE", "MISSING", "3 h 0 min"),
        ("2026-03-01 08:00:00", "UNKNOWN", "ALIVE", "3 h 0 min"),
    ]
    assert "so far" in body  # the newest state still holds
    assert "Health changes of this node, newest first: 3" in body


def test_status_history_is_paged_and_a_bad_page_is_a_400_with_the_reason(alice, world, monkeypatch):
    monkeypatch.setattr(table, "PER_PAGE", 2)
    for n in range(3):
        f.NodeStatusChangeFactory(node=world.node_a, at=T0 + timedelta(minutes=n))
    first = text(alice.get(f"/nodes/{world.node_a.pk}/status/"))
    assert first.count("<tr data-change=") == 2 and 'rel="next" href="?page=2"' in first
    second = text(alice.get(f"/nodes/{world.node_a.pk}/status/?page=2"))
    assert second.count("<tr data-change=") == 1
    # the oldest row of page 2 lasted until the oldest of page 1 began
    assert '<td class="number">1 min' in second
    for page, reason in (
        ("3", "There is no page 3"),
        ("0", "is not a page number"),
        ("x", "is not a page number"),
    ):
        response = alice.get(f"/nodes/{world.node_a.pk}/status/?page={page}")
        assert response.status_code == 400 and reason in text(response)


def test_durations_read_in_the_two_largest_units():
    assert status.duration(timedelta(seconds=12)) == "12 s"
    assert status.duration(timedelta(minutes=4, seconds=5)) == "4 min"
    assert status.duration(timedelta(hours=3, minutes=5)) == "3 h 5 min"
    assert status.duration(timedelta(days=2, hours=3, minutes=1)) == "2 d 3 h"


def test_radio_shows_each_gateway_with_its_newest_signal_and_uplink_count(alice, world):
    for n in range(3):
        f.ReceptionFactory(
            node=world.node_a,
            ts=T0 + timedelta(minutes=n),
            gateway_id="gw-school",
            rssi=-100.0 + n,
            snr=2.0 + n,
            spreading_factor=9 - n,
        )
    f.ReceptionFactory(
        node=world.node_a,
        ts=T0,
        gateway_id="gw-townhall",
        rssi=-118.0,
        snr=-6.5,
        spreading_factor=12,
    )
    f.ReceptionFactory(node=world.node_b, ts=T0, gateway_id="secretB-gw")
    response = alice.get(f"/nodes/{world.node_a.pk}/radio/")
    body = text(response)
    assert "secretB" not in body and "data-no-radio" not in body
    gateways = re.findall(
        r'<tr data-gateway="([^"]+)">.*?'
        + r'<td class="number">([^<]+)</td>\s*' * 3
        + r'<td class="number">(\d+)</td>\s*<td><time[^>]*>([^<]+)',
        body,
        re.S,
    )
    assert gateways == [
        ("gw-school", "-98", "4", "SF7", "3", "2026-03-01 08:02:00"),
        ("gw-townhall", "-118", "-6.5", "SF12", "1", "2026-03-01 08:00:00"),
    ]
    # the chart: one point per uplink, the best of the gateways that heard it
    points = response.context["chart"]["points"]
    assert points == [
        [T0.timestamp(), -100.0, 2.0],
        [(T0 + timedelta(minutes=1)).timestamp(), -99.0, 3.0],
        [(T0 + timedelta(minutes=2)).timestamp(), -98.0, 4.0],
    ]
    assert 'id="radio-data"' in body and "dashboard/radio.js" in body
    assert '<td class="number">868.1</td>' in body  # frequency in MHz


def test_radio_says_so_when_a_node_has_no_radio_data(alice, world):
    f.ReceptionFactory(node=world.node_b)  # another node's
    body = text(alice.get(f"/nodes/{world.node_a.pk}/radio/"))
    assert "data-no-radio" in body and "No radio data" in body
    assert "radio.js" not in body and "<table" not in body


def test_best_per_uplink_leaves_unknown_signal_out():
    receptions = [
        f.ReceptionFactory.build(ts=T0, rssi=None, snr=None),
        f.ReceptionFactory.build(ts=T0, gateway_id="gw-2", rssi=-80.0, snr=None),
    ]
    assert radio.best_per_uplink(receptions) == [[T0.timestamp(), -80.0, None]]


def test_dead_letters_lists_this_nodes_letters_with_a_replay_button_for_owners(alice, world):
    mine = f.DeadLetterFactory(node=world.node_a, detail="secretA co2 = -5 is implausible")
    done = f.DeadLetterFactory(node=world.node_a, received_at=T0, resolved_at=T0)
    other = f.DeadLetterFactory(node=f.NodeFactory(organization=world.org_a), detail="elsewhere")
    body = text(alice.get(f"/nodes/{world.node_a.pk}/dead-letters/"))
    assert f'<tr data-letter="{mine.pk}">' in body and f'<tr data-letter="{done.pk}">' in body
    assert f'data-letter="{other.pk}"' not in body and "elsewhere" not in body
    assert "secretA co2 = -5 is implausible" in body
    assert post_forms(body) == [f"/dead-letters/{mine.pk}/replay/"]  # open letters only
    replayed = alice.post(f"/dead-letters/{mine.pk}/replay/")
    assert replayed.status_code == 302 and replayed["Location"] == f"/dead-letters/{mine.pk}/"


def test_dead_letters_of_a_node_without_any_say_so(alice, world):
    body = text(alice.get(f"/nodes/{world.node_a.pk}/dead-letters/"))
    assert "No dead letters: everything this node sent was stored." in body


# -- who sees which tab ----------------------------------------------------------------------


@pytest.fixture
def busy_node(world):
    """node_a with one of everything a tab shows, and an open dead letter."""
    f.AlertFactory(node=world.node_a, message="secretA alert")
    f.NodeStatusChangeFactory(node=world.node_a)
    f.ReceptionFactory(node=world.node_a, gateway_id="secretA-gw")
    f.DeadLetterFactory(node=world.node_a, detail="secretA letter")
    return world.node_a


@pytest.mark.parametrize("key", [*OWN_TABS, "settings"])
def test_bob_the_inspector_sees_every_tab_without_anything_that_changes(
    client, world, busy_node, key
):
    client.force_login(world.bob)
    response = client.get(tab_url(busy_node, key))
    assert response.status_code == 200
    body = text(response)
    assert post_forms(body) == [], "an inspector gets no form that changes things"
    assert ">Acknowledge</button>" not in body and ">Replay</button>" not in body


def every_tab_url(node) -> list[str]:
    """Every URL of the tab bar (connect too, once it exists) plus each tab route."""
    urls = {tab.url for tab in node_tabs(node, "")}
    return sorted(urls | {tab_url(node, key) for key in OWN_TABS})


@pytest.mark.parametrize("persona", ["charlie", "dave"])
def test_every_tab_of_a_foreign_node_is_the_404_and_leaks_nothing(
    client, world, busy_node, persona
):
    client.force_login(getattr(world, persona))
    for node in (busy_node, world.public_node):  # a public installation opens no tab
        for url in every_tab_url(node):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "secretA" not in text(response), url


def test_an_unknown_or_huge_node_id_is_the_404(alice):
    for key in OWN_TABS:
        name = next(name for k, _, name in TABS if k == key)
        assert alice.get(reverse(name, args=[987654])).status_code == 404
        assert alice.get(reverse(name, args=[10**30])).status_code == 404


def test_anonymous_visitors_are_sent_to_login(client, world):
    for key in OWN_TABS:
        response = client.get(tab_url(world.node_a, key))
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_operator_sees_every_tab(client, world, busy_node):
    client.force_login(world.root)
    for key in OWN_TABS:
        assert client.get(tab_url(busy_node, key)).status_code == 200


def test_tabs_show_times_in_the_organizations_time_zone(alice, world):
    world.org_a.time_zone = "Europe/Berlin"
    world.org_a.save(update_fields=["time_zone"])
    f.NodeStatusChangeFactory(node=world.node_a, at=T0)  # 08:00 UTC: 09:00 in Berlin
    f.ReceptionFactory(node=world.node_a, ts=T0)
    status_tab = text(alice.get(f"/nodes/{world.node_a.pk}/status/"))
    assert '<th scope="col">From (Europe/Berlin)</th>' in status_tab
    assert ">2026-03-01 09:00:00</time>" in status_tab
    radio_tab = alice.get(f"/nodes/{world.node_a.pk}/radio/")
    assert radio_tab.context["chart"]["time_zone"] == "Europe/Berlin"
    assert '<th scope="col">Last seen (Europe/Berlin)</th>' in text(radio_tab)
