"""A device at the throwaway dynsec broker: connects, publishes, and notices being thrown off."""

import threading
import time

from sensorgrid.mqtt import make_client


def connack(url: str, timeout: float = 10) -> str:
    """Connect once as the URL's user and return the CONNACK reason ("Success", …)."""
    device = Device(url)
    try:
        return device.connect(timeout)
    finally:
        device.close()


class Device:
    """One MQTT 5 connection that records its CONNACK and whether the broker closed it."""

    def __init__(self, url: str) -> None:
        self.reason = ""
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.disconnect_reason = ""
        self.client = make_client(
            url,
            name="test-device",
            protocol="5",
            callbacks={"on_connect": self._on_connect, "on_disconnect": self._on_disconnect},
        )

    def connect(self, timeout: float = 10) -> str:
        self.client.connect(self.client.broker.host, self.client.broker.port, keepalive=30)
        deadline = time.monotonic() + timeout
        while not self.connected.is_set() and time.monotonic() < deadline:
            self.client.loop(timeout=0.1)
        if not self.connected.is_set():
            raise TimeoutError("no CONNACK")
        if self.reason == "Success":
            self.client.loop_start()
        return self.reason

    def thrown_off(self, timeout: float = 10) -> bool:
        """True once the broker closed the connection (within ``timeout`` seconds)."""
        return self.disconnected.wait(timeout)

    def close(self) -> None:
        self.client.reconnect_delay_set(3600, 3600)  # no reconnection while closing
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        self.reason = str(reason_code)
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected.is_set() and not self.disconnected.is_set():
            self.disconnect_reason = str(reason_code)
            self.disconnected.set()
            client.reconnect_delay_set(3600, 3600)  # one connection per Device
