"""The outbound guard itself: which addresses it refuses, the allowance, connect-time
checks on resolved addresses and on every redirect hop, against local HTTP servers."""

import ipaddress
import urllib.error
from http.server import BaseHTTPRequestHandler

import pytest

from sensorgrid.outbound import OutboundRefused, check_url
from sensorgrid.outbound.addresses import REFUSED, is_public
from sensorgrid.outbound.connect import connect
from sensorgrid.outbound.http import opener
from sensorgrid.outbound.reasons import reason
from tests.servers import http_server


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # CGNAT
        "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1",
        "::1", "::", "fe80::1", "fe80::1%1", "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1",  # IPv4-mapped
        "2002:7f00:1::", "64:ff9b::a9fe:a9fe",  # 6to4 and NAT64 of loopback / metadata
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo
    ],
)  # fmt: skip
def test_non_public_addresses_are_refused(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_pass(address):
    assert is_public(ipaddress.ip_address(address))


@pytest.fixture
def site():
    """A local HTTP server that says who it is; ``/to?url`` redirects there."""

    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            if self.path.startswith("/to?"):
                self.send_response(302)
                self.send_header("Location", self.path.split("?", 1)[1])
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"internal secret")

        def log_message(self, *args):
            pass

    with http_server(Handler) as port:
        yield port, hits


def fetch(url: str) -> bytes:
    with opener().open(url, timeout=5) as response:
        return response.read()


def test_loopback_is_refused_at_connect_time_without_the_allowance(settings, site):
    settings.SENSORGRID_OUTBOUND_ALLOW = []
    port, hits = site
    for host in ("127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "127.1", "2130706433"):
        with pytest.raises(urllib.error.URLError) as caught:
            fetch(f"http://{host}:{port}/")
        assert isinstance(caught.value.reason, OutboundRefused), host
        assert reason(caught.value) == REFUSED
    assert hits == []  # nothing reached the server


def test_a_name_is_judged_by_the_address_it_resolves_to(settings, site):
    # "localhost" is a DNS name here: the check runs on what it resolves to, at connect.
    settings.SENSORGRID_OUTBOUND_ALLOW = []
    port, hits = site
    with pytest.raises(OutboundRefused):
        connect(("localhost", port), timeout=2)
    assert hits == []
    settings.SENSORGRID_OUTBOUND_ALLOW = ["127.0.0.0/8", "::1"]
    connect(("localhost", port), timeout=2).close()


def test_the_metadata_service_and_private_addresses_are_refused_before_any_packet(settings):
    settings.SENSORGRID_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    for host in ("169.254.169.254", "10.255.255.1", "100.64.0.1", "[fd00::1]", "[fe80::1]"):
        with pytest.raises(urllib.error.URLError) as caught:
            fetch(f"http://{host}/latest/meta-data/")  # refused at once, not a timeout
        assert isinstance(caught.value.reason, OutboundRefused), host


def test_the_allowance_takes_cidrs_addresses_with_ports_and_names(settings, site):
    port, _ = site
    for allowance in (["127.0.0.0/8"], [f"127.0.0.1:{port}"], ["127.0.0.1"], [f"localhost:{port}"]):
        settings.SENSORGRID_OUTBOUND_ALLOW = allowance
        host = "localhost" if "localhost" in allowance[0] else "127.0.0.1"
        assert fetch(f"http://{host}:{port}/") == b"internal secret", allowance
    settings.SENSORGRID_OUTBOUND_ALLOW = [f"127.0.0.1:{port + 1}", "localhost:1"]
    with pytest.raises(urllib.error.URLError):
        fetch(f"http://127.0.0.1:{port}/")


def test_a_redirect_to_a_refused_address_is_refused(settings, site):
    # The allowance stands for a public host: only 127.0.0.1 on the site's port. The
    # site redirects to another loopback address (127.0.0.2) and to another port.
    port, hits = site
    other: list[str] = []
    with http_server(_recording_handler(other)) as other_port:
        settings.SENSORGRID_OUTBOUND_ALLOW = [f"127.0.0.1:{port}"]
        for target in (f"http://127.0.0.2:{port}/", f"http://127.0.0.1:{other_port}/"):
            with pytest.raises(urllib.error.URLError) as caught:
                fetch(f"http://127.0.0.1:{port}/to?{target}")
            assert isinstance(caught.value.reason, OutboundRefused), target
        assert other == [] and hits.count("/") == 0
        # Redirects within the allowance are followed.
        assert fetch(f"http://127.0.0.1:{port}/to?http://127.0.0.1:{port}/") == b"internal secret"


def test_redirects_to_other_schemes_are_not_followed(settings, site):
    port, _ = site
    settings.SENSORGRID_OUTBOUND_ALLOW = [f"127.0.0.1:{port}"]
    for target in ("file:///etc/passwd", "ftp://127.0.0.1/x"):
        with pytest.raises(urllib.error.HTTPError) as caught:
            fetch(f"http://127.0.0.1:{port}/to?{target}")
        assert caught.value.code == 302


def _recording_handler(hits: list):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/", "http://localhost:8080/", "https://LOCALHOST./",
        "http://app.localhost/", "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0x7f000001/", "http://127.1/",
        "http://10.0.0.5/", "http://192.168.0.10:8123/", "mqtt://172.17.0.1:1883",
        "http://[fe80::1]/", "http://0.0.0.0/",
    ],
)  # fmt: skip
def test_urls_with_literal_non_public_hosts_are_refused_when_saved(settings, url):
    settings.SENSORGRID_OUTBOUND_ALLOW = []
    with pytest.raises(ValueError, match="SENSORGRID_OUTBOUND_ALLOW"):
        check_url(url)


def test_names_and_allowed_addresses_pass_the_save_time_check(settings):
    settings.SENSORGRID_OUTBOUND_ALLOW = ["192.168.0.0/16", "localhost:8080"]
    for url in ("https://hooks.example.org/x", "http://192.168.0.10/", "http://localhost:8080/"):
        check_url(url)
