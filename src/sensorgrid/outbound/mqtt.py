"""A paho client whose TCP connection passes the guard.

paho opens its socket in ``_create_socket_connection`` (private API; pyproject pins
paho's minor version); overriding it checks the resolved address at connect time
and ignores proxies from the environment. TLS still verifies the broker's name.
"""

import paho.mqtt.client as paho

from sensorgrid.outbound.connect import connect


class GuardedClient(paho.Client):
    def _create_socket_connection(self):
        if self._transport != "tcp":
            raise ValueError("only MQTT over TCP is guarded")
        return connect((self._host, self._port), timeout=self._connect_timeout)


def check_topic(topic: str) -> None:
    """``ValueError`` for a topic a channel must not publish to.

    ``$`` topics belong to the broker (``$SYS``, Mosquitto's ``$CONTROL`` for its
    dynamic security plugin); wildcards and NUL are not topics one publishes to.
    """
    if not isinstance(topic, str) or not topic or any(c in topic for c in "+#\x00"):
        raise ValueError("topic: a topic without wildcards is required.")
    if topic.startswith("$"):
        raise ValueError("topic: topics starting with $ belong to the broker.")
    if len(topic.encode()) > 65535:
        raise ValueError("topic: at most 65535 bytes.")
