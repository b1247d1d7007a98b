"""The demo broker's door: amqtt asks here about every CONNECT, PUBLISH and SUBSCRIBE.

``DatabaseAuthPlugin`` is an amqtt authentication *and* topic-check plugin (one object,
so both share one cache). It knows two kinds of clients:

- **nodes**: username ``node-<pk>`` (``Node.broker_username``), password = the node's
  ingest credential. A node may publish only to its own topic filters (acl.py: the route
  table's ``{device}`` templates with its device id filled in) and subscribe to nothing.
  A node without a credential (never issued, or revoked) cannot connect.
- **service accounts** of the demo: ``sensorgrid-ingest`` (subscribes to anything,
  publishes nothing) and ``sensorgrid-simulator`` (publishes on every route's filter, as
  the devices and network servers it plays would; subscribes to nothing). Their random
  passwords are made at each demo start (``create_service_accounts``) in files of mode
  0600 in the data directory; the broker reads them at its start, the clients through
  ``SENSORGRID_MQTT_PASSWORD_FILE``.

Anonymous clients, unknown users and wrong passwords get CONNACK "not authorized".
A PUBLISH outside the filters is dropped (amqtt has no negative PUBACK on MQTT 3.1.1).
A CONNECT whose will is on a topic outside them is refused: amqtt would publish the will
without asking the topic check.

What a node may do is read from the database and cached for ``cache_seconds`` (5 s):
every CONNECT reads afresh, so a rotated or revoked credential is refused at the next
connection at once; a client that stays connected with an old credential has its
publishes dropped within ``cache_seconds`` (amqtt offers no way to disconnect it).
Route changes reach the filters within the same time.

amqtt comes with the ``demo`` extra: only the embedded broker imports this module.
"""

import asyncio
import logging
import os
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action, BaseContext
from amqtt.errors import AMQTTError, MQTTError, NoDataError
from amqtt.mqtt.connack import NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session
from amqtt.utils import gen_client_id
from django.db import DatabaseError, connection

from sensorgrid.brokerauth import acl
from sensorgrid.inventory import credentials

log = logging.getLogger(__name__)

#: account name → MQTT username of the demo's service accounts
SERVICE_USERNAMES = {"ingest": "sensorgrid-ingest", "simulator": "sensorgrid-simulator"}
#: at most 18 digits: a larger number is no primary key (and would overflow a bigint)
NODE_USERNAME = re.compile(r"node-([1-9][0-9]{0,17})")
#: cached identities at most; an attacker trying usernames cannot grow the cache forever
CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Identity:
    """What a broker client must present and may do."""

    digest: str  #: SHA-256 of its password (credentials.digest)
    publish: tuple[str, ...]  #: topic filters it may publish to
    subscribe: bool = False  #: may subscribe to (and receive) any topic


def password_file(directory: Path, account: str) -> Path:
    """Where the password of the service account ``account`` (ingest, simulator) is kept."""
    return directory / f"{account}.password"


def create_service_accounts(directory: Path) -> dict[str, Path]:
    """New random passwords for every service account, each in a file of mode 0600.

    The demo calls it at each start, before the broker starts: a password of an earlier
    run stops working. Returns account → password file.
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    files = {}
    for account in SERVICE_USERNAMES:
        path = password_file(directory, account)
        path.unlink(missing_ok=True)  # a file someone else made keeps no mode of its own
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
        files[account] = path
    return files


def service_digests(directory: Path) -> dict[str, str]:
    """username → password digest of the service accounts whose files exist."""
    digests = {}
    for account, username in SERVICE_USERNAMES.items():
        path = password_file(directory, account)
        if path.exists():
            digests[username] = credentials.digest(path.read_text().strip())
    return digests


def node_identity(username: str) -> Identity | None:
    """The identity of the node named ``node-<pk>``; None: unknown, without credential or
    of a suspended organization."""
    from sensorgrid.inventory.models import Node

    found = NODE_USERNAME.fullmatch(username)
    if found is None:
        return None
    node = (
        Node.objects.filter(pk=int(found[1]), organization__suspended_at__isnull=True)
        .only("device_id", "organization_id", "credential_digest")
        .first()
    )
    if node is None or not node.credential_digest:
        return None
    return Identity(node.credential_digest, tuple(acl.publish_filters(node)))


def every_route_filter() -> tuple[str, ...]:
    """The route table's subscription filters (``{device}`` as ``+``): the simulator's."""
    from sensorgrid.ingest.mqtt.config import route_table

    return tuple(route_table().subscriptions())


def _read(function: Any, *arguments: Any) -> Any:
    """Run a short query in the broker's database thread; once more after a lost connection.

    The broker is a long-running process: a connection broken by a database restart
    is closed and opened again instead of failing every later check.
    """
    try:
        return function(*arguments)
    except DatabaseError:
        connection.close()
        return function(*arguments)


def _close_connection() -> None:
    # Looked up here, in the reading thread: ``connection.close`` taken in the event
    # loop's thread would be that thread's connection.
    connection.close()


class DatabaseAuthPlugin(BaseAuthPlugin, BaseTopicPlugin):
    """amqtt plugin (authentication and topic checking) over the inventory (module doc).

    Configured in the broker's ``plugins`` section (runtime/broker.py): ``accounts_dir``
    holds the service accounts' password files; ``cache_seconds`` bounds how long a
    node's rights are reused before the database is asked again.
    """

    @dataclass
    class Config:
        accounts_dir: str = ""
        cache_seconds: float = 5.0

    def __init__(self, context: BaseContext) -> None:
        super().__init__(context)
        directory = self.config.accounts_dir
        self._services = service_digests(Path(directory)) if directory else {}
        self._cache: dict[str, tuple[float, Identity | None]] = {}
        # One thread of its own reads (never the event loop's): its database
        # connection is opened, reused and closed there.
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="broker-auth")
        #: (username, topic) refusals already logged: a device retrying is said once
        self._said: set[tuple[str, str]] = set()

    async def authenticate(self, *, session: Session) -> bool:
        username = session.username
        if not username:
            log.warning("refused an anonymous MQTT client (%s)", session.client_id)
            return False
        try:
            identity = await self._identity(username, fresh=True)
        except Exception:
            log.exception("cannot check the MQTT client %s: refused", username)
            return False
        if identity is None:
            log.warning("refused MQTT client %s: no such user (or no credential)", username)
            return False
        if not credentials.matches(session.password or "", identity.digest):
            log.warning("refused MQTT client %s: wrong password", username)
            return False
        if session.will_flag and not acl.allowed(identity.publish, session.will_topic or ""):
            # amqtt publishes a will without the topic check of a PUBLISH.
            log.warning(
                "refused MQTT client %s: its will is on %s, not a topic it may publish to",
                username,
                session.will_topic,
            )
            return False
        return True

    async def topic_filtering(
        self,
        *,
        session: Session | None = None,
        topic: str | None = None,
        action: Action | None = None,
    ) -> bool:
        if session is None or not session.username or not topic:
            return False
        username = session.username
        try:
            identity = await self._identity(username)
        except Exception:
            log.exception("cannot check %s of %s on %s: refused", action, username, topic)
            return False
        if identity is None or not credentials.matches(session.password or "", identity.digest):
            # Rotated, revoked or deleted since it connected.
            self._say(username, action, topic, "its credential is no longer valid")
            return False
        if action == Action.PUBLISH:
            permitted = acl.allowed(identity.publish, topic)
        else:  # SUBSCRIBE, RECEIVE
            permitted = identity.subscribe
        if not permitted:
            self._say(username, action, topic, "not allowed")
        return permitted

    async def close(self) -> None:
        """At broker shutdown: close the reading thread's database connection."""
        await self._read(_close_connection)
        self._reader.shutdown()

    async def _read(self, function: Any, *arguments: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(
            self._reader, _read, function, *arguments
        )

    async def _identity(self, username: str, fresh: bool = False) -> Identity | None:
        digest = self._services.get(username)
        if digest is not None:
            return await self._service(username, digest, fresh)
        now = time.monotonic()
        cached = self._cache.get(username)
        if cached is not None and not fresh and now - cached[0] < self.config.cache_seconds:
            return cached[1]
        identity = await self._read(node_identity, username)
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[username] = (now, identity)
        return identity

    async def _service(self, username: str, digest: str, fresh: bool) -> Identity:
        if username == SERVICE_USERNAMES["ingest"]:
            return Identity(digest, (), subscribe=True)
        now = time.monotonic()
        cached = self._cache.get(username)
        if cached is None or fresh or now - cached[0] >= self.config.cache_seconds:
            filters = await self._read(every_route_filter)
            cached = (now, Identity(digest, filters))
            self._cache[username] = cached
        assert cached[1] is not None  # a service account always has an identity
        return cached[1]

    def _say(self, username: str, action: Action | None, topic: str, why: str) -> None:
        key = (username, f"{action} {topic}")
        if key in self._said:
            return
        if len(self._said) >= CACHE_SIZE:
            self._said.clear()
        self._said.add(key)
        log.warning("refused %s of MQTT client %s on %s: %s", action, username, topic, why)


class AuthenticatingBroker(Broker):
    """amqtt's broker, checking the password before a CONNECT touches a session.

    amqtt 0.12.1 looks the client id up first: a clean-session CONNECT deletes the
    session of that id (its subscriptions and queued messages) and a persistent one
    overwrites the stored session's user, password and will, and only then are the
    plugins asked. A stranger knowing the ingest service's client id could silently
    unsubscribe it. This is upstream's ``_initialize_client_session`` with the
    authentication moved to the front; the plugins run again afterwards, as upstream
    does (a second, cheap check). A client id in use by one account cannot be taken
    over by another.
    """

    async def _initialize_client_session(
        self, reader: Any, writer: Any, remote_address: str, remote_port: int
    ) -> tuple[Any, Session]:
        try:
            handler, session = await BrokerProtocolHandler.init_from_connect(
                reader, writer, self.plugins_manager
            )
        except MQTTError:
            await writer.close()
            raise
        except NoDataError as exc:
            raise AMQTTError(exc) from exc
        known = self._sessions.get(session.client_id) if session.client_id else None
        if known is not None and known[0].username not in (None, session.username):
            # A client id is its user's: another account may not take over its session.
            log.warning(
                "refused MQTT client %s: client id %r belongs to another user",
                session.username,
                session.client_id,
            )
            await self._refuse(session, writer)
        if not await self._authenticate(session, None):
            await self._refuse(session, writer)
        if session.clean_session:
            if session.client_id:
                await self._delete_session(session.client_id)
            else:
                session.client_id = gen_client_id()
            session.parent = 0
        elif session.client_id in self._sessions:
            existing, _ = self._sessions[session.client_id]
            for name in (
                "will_flag",
                "will_message",
                "will_topic",
                "will_qos",
                "keep_alive",
                "username",
                "password",
            ):
                setattr(existing, name, getattr(session, name))
            session = existing
            session.parent = 1
        else:
            session.parent = 0
        delay = self.config.get("timeout-disconnect-delay", 0)
        if session.keep_alive > 0 and isinstance(delay, int):
            session.keep_alive += delay
        return handler, session

    async def _refuse(self, session: Session, writer: Any) -> None:
        await ConnackPacket.build(0, NOT_AUTHORIZED).to_stream(writer)
        await writer.close()
        raise MQTTError(f"{session.username or 'an anonymous client'}: not authorized")
