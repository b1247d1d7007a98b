"""The outbound guard: every connection the server opens on a user's behalf passes here.

Webhooks, MQTT channels (and so forwarders) and geo pipelines name their destination
themselves, so without a guard any owner could make the worker reach loopback, the
private network or the cloud metadata service and read the answer back. The guard:

- resolves a host name once, checks **every** address it resolves to, and connects to
  one of exactly those addresses (a second, rebinding DNS answer is never asked for);
- refuses loopback, private (RFC 1918, ULA), link-local (169.254/16 with the metadata
  service, fe80::/10), unspecified, multicast, reserved, CGNAT (100.64/10) and
  documentation ranges, also when wrapped in IPv6 (IPv4-mapped, 6to4, Teredo, NAT64),
  unless ``SENSORGRID_OUTBOUND_ALLOW`` lists them (``addresses.Allowance``);
- does so at connect time for every HTTP request and every redirect hop
  (``outbound.http``) and every MQTT connection (``outbound.mqtt``).

Users see fixed reasons (``outbound.reasons``), never what a remote service answered.

The project speaks HTTP through the standard library (urllib) and MQTT through paho;
the maintained SSRF libraries wrap requests or httpx, so the guard is a small socket
level check used by both instead (docs/security.md, "Outbound guard").
"""

from sensorgrid.outbound.addresses import OutboundRefused, check_url

__all__ = ["OutboundRefused", "check_url"]
