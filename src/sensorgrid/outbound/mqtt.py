"""MQTT on a user's behalf: which topics may be published to.

The connection itself passes the guard through ``sensorgrid.mqtt.make_client``'s
``open_socket`` (``outbound.connect.connect``): the resolved address is checked at
connect time, proxies from the environment are ignored, TLS still verifies the name.
"""


def check_topic(topic: object) -> None:
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
