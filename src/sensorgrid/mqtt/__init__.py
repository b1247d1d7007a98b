"""MQTT for all of SensorGrid: the only package that imports paho.

- ``make_client`` (factory.py) makes every client: ingester, alert channel, simulator,
  load generators; ``Broker`` (broker.py) says where the broker is and how to log in;
- fastpath.py is the ingester's fast path over paho's private API;
- guard.py keeps a raising callback from ending paho's network thread.

pyproject pins paho's minor version; tests/mqtt/test_paho_contract.py fails when a
private name this package relies on disappears or the fast path is not taken, and
tests/mqtt/test_only_here.py when a module elsewhere imports paho.
"""

from paho.mqtt.client import ConnectFlags, DisconnectFlags, MQTTMessage, MQTTMessageInfo
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from sensorgrid.mqtt.broker import Broker, parse
from sensorgrid.mqtt.client import Client
from sensorgrid.mqtt.factory import make_client

__all__ = [
    "Broker",
    "Client",
    "ConnectFlags",
    "DisconnectFlags",
    "MQTTMessage",
    "MQTTMessageInfo",
    "Properties",
    "ReasonCode",
    "make_client",
    "parse",
]
