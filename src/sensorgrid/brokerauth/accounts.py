"""What the broker must know: a client and a role per node, and the service accounts.

Names. A node is the broker client ``node-<pk>`` (``Node.broker_username``: stable and
unique across organizations) with the one role ``node-<pk>``; service accounts' roles are
named ``sg-…``. SensorGrid owns exactly the clients and roles whose names start with
``node-`` or ``sg-`` (plus the service clients it names): it never changes, let alone
deletes, anything else at the broker, the admin account above all.

A node's role allows ``publishClientSend`` on its topic filters (acl.py) and nothing
else: subscriptions are denied by the plugin's default ACL access (SensorGrid sends
devices no downlinks yet), so no device subscribes to ``#`` or to another device's
topics. The client id is free (devices choose theirs).

Receiving is denied by default (``DEFAULT_ACCESS``: the plugin's default ACL access for
``publishClientReceive``, which Mosquitto allows out of the box). Mosquitto 2.0 lets any
authenticated client that connects with a client id and clean start off take over that
session and its subscriptions, which are not checked against the new client's ACLs
again; only delivery is (``publishClientReceive``). The ingest service's client id is
stable (ingest/mqtt/broker.py), so with the default allowing it a node could connect as
the ingest service's session and receive every organization's uplinks. The ingest role
gets explicit receive ACLs on its route filters instead; nodes and channels receive
nothing. ``diff`` reports a differing default as drift and sets it.

State and diff. ``desired()`` reads the inventory, ``actual(dynsec)`` the broker (two
verbose list commands and the default ACL access), and ``diff(desired, actual,
passwords)`` gives the ``Change``\\ s that make the broker match, each with its plugin
commands, in an order the plugin accepts (roles before the clients that name them;
clients before the roles they drop).

Passwords. The broker never gives a password back and SensorGrid keeps only a digest of
a node's credential, so a password is known only while it waits in the outbox
(``passwords``: username → plaintext). Without it, a node missing at the broker is
created **disabled** with a random password nobody knows, and a node whose client is
disabled at the broker stays so: the diff never enables a client it cannot give the
right password. Such nodes are listed in ``Diff.waiting`` ("rotate the credential to
connect"); rotating the credential queues the password and enables the client.

Disabled and suspended. A node without a credential (disabled) keeps its client and
role at the broker, disabled; so does a node of a suspended organization (tenancy),
whose client keeps its password: unsuspending queues an ``enable`` change per node
(receivers.py), which enables the client without a password. ``node_account`` is the
one place that decides.

Service accounts (``services()``), whose passwords SensorGrid knows:

- the ingest service (``sg-ingest`` role: subscribe to every route filter, plain and as
  ``$share/<group>/…``; its username and password are those of ``SENSORGRID_MQTT_URL``);
- each enabled MQTT alert channel (forwarders publish through one) whose URL names the
  user ``sg-channel-<its pk>``: role ``sg-channel-<pk>``, publish on its configured topic
  only. A topic the ingest service reads (it matches a route) is never granted: a
  channel must not publish as a device. Any other user name is not SensorGrid's to give
  (it could be another organization's channel or a node), so such a channel gets no
  account here.

A service client's text name carries a fingerprint of its password (a truncated SHA-256
of user and password), so a changed password (a new ``SENSORGRID_MQTT_URL``, a channel's
new password) shows as drift and is set again.
"""

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q

from sensorgrid.brokerauth import acl
from sensorgrid.brokerauth.dynsec import Command
from sensorgrid.ingest.mqtt import broker as platform_broker
from sensorgrid.ingest.mqtt.routes import Route

if TYPE_CHECKING:
    from sensorgrid.brokerauth.dynsec import Dynsec
    from sensorgrid.inventory.models import Node

NODE_PREFIX = "node-"
SERVICE_PREFIX = "sg-"
INGEST_ROLE = "sg-ingest"
CHANNEL_PREFIX = "sg-channel-"
#: the plugin's default ACL access SensorGrid sets (acltype → allowed), see above
DEFAULT_ACCESS: dict[str, bool] = {"publishClientReceive": False}
#: the attribute ``desired()`` annotates on its nodes: their organization is suspended
SUSPENDED = "organization_is_suspended"


def owned(name: str) -> bool:
    """True for a client or role name SensorGrid manages (and may delete)."""
    return name.startswith((NODE_PREFIX, SERVICE_PREFIX))


def admin_usernames() -> set[str]:
    """The admin account(s) SensorGrid logs in as (``SENSORGRID_MQTT_ADMIN_USERNAME``, the
    user of ``SENSORGRID_MQTT_ADMIN_URL``): the shipped configs name it ``sg-admin``, an
    owned name, so ``diff`` must single it out or it deletes the account it works with."""
    names = {settings.SENSORGRID_MQTT_ADMIN_USERNAME or ""}
    if settings.SENSORGRID_MQTT_ADMIN_URL:
        names.add(unquote(urlsplit(settings.SENSORGRID_MQTT_ADMIN_URL).username or ""))
    names.discard("")
    return names


def protected(account: "Account", admins: set[str]) -> bool:
    """A client ``diff`` never changes nor deletes: the admin, or one holding a role
    SensorGrid does not own (somebody else's account under an owned-looking name).
    Never a node's client: its revocation must apply whatever roles an operator gave
    it (no admin may be named ``node-…``: ``check_admin_username``)."""
    if account.username in admins:
        return True
    if account.username.startswith(NODE_PREFIX):
        return False
    return not all(owned(role) for role in account.roles)


def check_admin_username(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """System check: an admin named ``node-…`` would be taken for a node's client."""
    from django.core import checks

    clash = sorted(name for name in admin_usernames() if name.startswith(NODE_PREFIX))
    return [
        checks.Error(
            f"the broker admin account {name!r} starts with {NODE_PREFIX!r}, the prefix of "
            "node clients: name it otherwise (e.g. sg-admin)",
            obj="SENSORGRID_MQTT_ADMIN_USERNAME",
            id="brokerauth.E001",
        )
        for name in clash
    ]


@dataclass(frozen=True, slots=True, order=True)
class Acl:
    acltype: str  # publishClientSend, subscribeLiteral, …
    topic: str
    allow: bool = True
    priority: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "acltype": self.acltype,
            "topic": self.topic,
            "allow": self.allow,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    acls: frozenset[Acl]

    def as_json(self) -> list[dict[str, Any]]:
        return [item.as_json() for item in sorted(self.acls)]


@dataclass(frozen=True, slots=True)
class Account:
    """A broker client as SensorGrid wants it (or as the broker has it)."""

    username: str
    roles: tuple[str, ...]
    disabled: bool = False
    #: the password to create the client with, if SensorGrid knows it (a service's)
    password: str | None = field(default=None, compare=False, repr=False)
    #: the plugin's text name: a service's password fingerprint, "" for nodes
    textname: str = ""


@dataclass
class State:
    accounts: dict[str, Account] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    #: the plugin's default ACL access (acltype → allowed); empty: not compared
    defaults: dict[str, bool] = field(default_factory=dict)

    def add(self, account: Account, *roles: Role) -> None:
        self.accounts[account.username] = account
        for role in roles:
            self.roles[role.name] = role


# -- commands ---------------------------------------------------------------------------


def role_commands(role: Role, exists: bool) -> list[Command]:
    """Create ``role`` or replace its ACLs (``modifyRole`` sets them all at once)."""
    command = "modifyRole" if exists else "createRole"
    return [{"command": command, "rolename": role.name, "acls": role.as_json()}]


def create_commands(account: Account, password: str | None = None) -> list[Command]:
    """Create the client; without a known password it is created disabled (see above)."""
    password = password or account.password
    roles = [{"rolename": name} for name in account.roles]
    commands: list[Command] = [
        {
            "command": "createClient",
            "username": account.username,
            # a client without a password must not be one a blank password opens
            "password": password or secrets.token_urlsafe(32),
            "roles": roles,
        }
    ]
    if account.textname:
        commands[0]["textname"] = account.textname
    # createClient ignores "disabled" (Mosquitto 2.0.11): disable it explicitly.
    if account.disabled or not password:
        commands.append(disable_command(account.username))
    return commands


def set_password_commands(username: str, password: str, enable: bool = True) -> list[Command]:
    """Give the client its (new) password; the plugin then disconnects its sessions."""
    commands: list[Command] = [
        {"command": "setClientPassword", "username": username, "password": password}
    ]
    if enable:
        commands.append(enable_command(username))
    return commands


def set_roles_command(account: Account) -> Command:
    return {
        "command": "modifyClient",
        "username": account.username,
        "roles": [{"rolename": name} for name in account.roles],
    }


def disable_command(username: str) -> Command:
    return {"command": "disableClient", "username": username}


def enable_command(username: str) -> Command:
    return {"command": "enableClient", "username": username}


def delete_commands(username: str, role: str | None = None) -> list[Command]:
    """Delete the client (the plugin disconnects it) and then its role, if named."""
    commands: list[Command] = [{"command": "deleteClient", "username": username}]
    if role:
        commands.append({"command": "deleteRole", "rolename": role})
    return commands


def node_commands(
    node: "Node", routes: Iterable[Route] | None = None, password: str | None = None
) -> list[Command]:
    """Create one node's role and client from nothing (for a broker that has neither)."""
    account, role = node_account(node, routes)
    return role_commands(role, exists=False) + create_commands(account, password)


# -- desired state ----------------------------------------------------------------------


def node_role(
    node: "Node", routes: Iterable[Route] | None = None, first: bool | None = None
) -> Role:
    filters = acl.publish_filters(node, routes, first)
    return Role(
        node.broker_username,
        frozenset(Acl("publishClientSend", topic_filter) for topic_filter in filters),
    )


def node_account(
    node: "Node", routes: Iterable[Route] | None = None, first: bool | None = None
) -> tuple[Account, Role]:
    """The node's client (disabled without a credential) and its role (``first``: whether
    it is its device id's first node, acl.py; default asked of the database)."""
    role = node_role(node, routes, first)
    disabled = not node.credential_digest or organization_suspended(node)
    return Account(node.broker_username, (role.name,), disabled=disabled), role


def organization_suspended(node: "Node") -> bool:
    """Whether the node's organization is suspended: ``desired()`` annotates its nodes
    (``SUSPENDED``, one query for all); a node without it asks the database."""
    known = getattr(node, SUSPENDED, None)
    if known is None:
        from sensorgrid.tenancy.models import Organization

        suspended = Organization.objects.filter(suspended_at__isnull=False)
        known = suspended.filter(pk=node.organization_id).exists()
    return bool(known)


def services(routes: Iterable[Route] | None = None) -> State:
    """The service accounts' clients and roles."""
    state = State()
    table = list(routes) if routes is not None else _all_routes()
    ingest = platform_broker.from_settings()
    admin = settings.SENSORGRID_MQTT_ADMIN_USERNAME
    # never the admin's account, nor a node's or a channel's name
    if ingest.username and ingest.username != admin and not _reserved_name(ingest.username):
        subscriptions = list(dict.fromkeys(route.subscription for route in table))
        group = settings.SENSORGRID_MQTT_SHARED_GROUP
        acls = {Acl("subscribeLiteral", topic_filter) for topic_filter in subscriptions}
        if group:
            acls |= {Acl("subscribeLiteral", f"$share/{group}/{f}") for f in subscriptions}
        # receiving is denied by default (DEFAULT_ACCESS): only what it subscribes to
        acls |= {Acl("publishClientReceive", topic_filter) for topic_filter in subscriptions}
        # unsubscribing is allowed by default
        role = Role(INGEST_ROLE, frozenset(acls))
        state.add(_service(ingest.username, (INGEST_ROLE,), ingest.password), role)
    reserved = {admin, ingest.username}
    for username, password, role in _channels(table):
        if username not in reserved:
            state.add(_service(username, (role.name,), password), role)
    return state


def _reserved_name(username: str) -> bool:
    return username.startswith((NODE_PREFIX, CHANNEL_PREFIX))


def _service(username: str, roles: tuple[str, ...], password: str | None) -> Account:
    return Account(username, roles, password=password, textname=fingerprint(username, password))


def fingerprint(username: str, password: str | None) -> str:
    """The text name of a service client: changes when its password does."""
    if not password:
        return "sensorgrid service"
    digest = hashlib.sha256(f"{username}:{password}".encode()).hexdigest()[:16]
    return f"sensorgrid service, password {digest}"


def _channels(table: list[Route]) -> list[tuple[str, str, Role]]:
    """(username, password, role) of the MQTT alert channels named sg-channel-<pk>."""
    from sensorgrid.alerts.channels.mqtt import stored_password
    from sensorgrid.alerts.models import Channel, ChannelKind

    read_by_ingest = [route.subscription for route in table]
    found = []
    for channel in Channel.objects.filter(kind=ChannelKind.MQTT, enabled=True).order_by("pk"):
        config = channel.config if isinstance(channel.config, dict) else {}
        username = unquote(urlsplit(str(config.get("url") or "")).username or "")
        password = stored_password(config)
        topic = config.get("topic")
        if username != f"{CHANNEL_PREFIX}{channel.pk}" or not password:
            continue
        acls: frozenset[Acl] = frozenset()
        if isinstance(topic, str) and topic and not acl.allowed(read_by_ingest, topic):
            acls = frozenset({Acl("publishClientSend", topic)})
        found.append((username, password, Role(username, acls)))
    return found


def desired(routes: Iterable[Route] | None = None) -> State:
    """Every node's client and role, then the service accounts."""
    from sensorgrid.inventory.models import Node

    table = list(routes) if routes is not None else _all_routes()
    device_routes = [route for route in table if acl.DEVICE in route.pattern.split("/")]
    state = State(defaults=dict(DEFAULT_ACCESS))
    nodes = Node.objects.only("pk", "device_id", "organization_id", "credential_digest")
    nodes = nodes.annotate(**{SUSPENDED: suspended_expression()})
    taken: set[str] = set()  # ids (lower case) whose first node came already: pk order
    for node in nodes.order_by("pk").iterator(chunk_size=2000):
        lower_id = node.device_id.lower()
        account, role = node_account(node, device_routes, first=lower_id not in taken)
        taken.add(lower_id)
        state.add(account, role)
    service_state = services(table)
    state.accounts.update(service_state.accounts)
    state.roles.update(service_state.roles)
    return state


def suspended_expression() -> ExpressionWrapper:
    """Annotated as ``SUSPENDED`` on nodes: their organization is suspended."""
    return ExpressionWrapper(Q(organization__suspended_at__isnull=False), BooleanField())


def _all_routes() -> list[Route]:
    from sensorgrid.ingest.mqtt.config import route_table

    return list(route_table().routes)


# -- actual state -----------------------------------------------------------------------


def actual(dynsec: "Dynsec") -> State:
    """The broker's clients and roles that SensorGrid owns (see ``owned``)."""
    clients = dynsec.run({"command": "listClients", "verbose": True, "count": -1})
    roles = dynsec.run({"command": "listRoles", "verbose": True, "count": -1})
    defaults = dynsec.run({"command": "getDefaultACLAccess"})
    state = State()
    for item in defaults.get("acls", []):
        state.defaults[item["acltype"]] = bool(item.get("allow"))
    for item in roles.get("roles", []):
        if owned(item["rolename"]):
            state.roles[item["rolename"]] = Role(
                item["rolename"],
                frozenset(
                    Acl(a["acltype"], a["topic"], bool(a.get("allow")), int(a.get("priority", 0)))
                    for a in item.get("acls", [])
                ),
            )
    for item in clients.get("clients", []):
        state.accounts[item["username"]] = Account(
            item["username"],
            tuple(role["rolename"] for role in item.get("roles", [])),
            disabled=bool(item.get("disabled", False)),
            textname=str(item.get("textname") or ""),
        )
    return state


# -- diff -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # create, change, delete
    what: str  # client, role, default (the default ACL access of an acltype)
    name: str
    detail: str
    commands: tuple[Command, ...]

    def __str__(self) -> str:
        return f"{self.kind} {self.what} {self.name}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Diff:
    changes: list[Change] = field(default_factory=list)
    #: nodes whose client stays disabled until a credential rotation gives it a password
    waiting: list[str] = field(default_factory=list)

    @property
    def commands(self) -> list[Command]:
        """All commands, roles created before the clients that use them, clients deleted
        before their roles."""
        order = {
            ("create", "role"): 0,
            ("change", "role"): 0,
            ("change", "default"): 2,
            ("delete", "role"): 3,
        }
        ranked = sorted(self.changes, key=lambda change: order.get((change.kind, change.what), 1))
        return [command for change in ranked for command in change.commands]

    def __bool__(self) -> bool:
        return bool(self.changes)


def diff(desired: State, actual: State, passwords: Mapping[str, str] | None = None) -> Diff:
    """The changes that make ``actual`` (the broker) match ``desired`` (SensorGrid).

    A default ACL access that differs is set after the roles (the ingest role's receive
    ACLs come first, so the ingest service goes on receiving).

    ``passwords``: node passwords SensorGrid knows now (pending in the outbox). Clients
    and roles that are not ``owned`` are never deleted; a desired client of another name
    (a service account) is created or changed, never deleted. The admin account and any
    client holding a role SensorGrid does not own are never changed nor deleted, nor are
    the roles they hold (``protected``).
    """
    passwords = passwords or {}
    result = Diff()
    admins = admin_usernames()
    # the admin and clients with a role not SensorGrid's, and the roles they hold: hands off
    hands_off = {name for name, have in actual.accounts.items() if protected(have, admins)}
    held = {role for name in hands_off for role in actual.accounts[name].roles}
    for name, role in desired.roles.items():
        have_role = actual.roles.get(name)
        if have_role is None:
            create = tuple(role_commands(role, False))
            result.changes.append(Change("create", "role", name, _acl_text(role.acls), create))
        elif have_role.acls != role.acls:
            detail = _acl_change(have_role.acls, role.acls)
            result.changes.append(
                Change("change", "role", name, detail, tuple(role_commands(role, True)))
            )
    for name in sorted(set(actual.roles) - set(desired.roles)):
        if owned(name) and name not in held:
            result.changes.append(
                Change("delete", "role", name, "", ({"command": "deleteRole", "rolename": name},))
            )
    for username, account in desired.accounts.items():
        if username in admins or username in hands_off:
            continue
        have = actual.accounts.get(username)
        password = passwords.get(username)
        if have is None:
            created = create_commands(account, password)
            known = password or account.password
            if not known and not account.disabled:
                result.waiting.append(username)
            state = "disabled" if account.disabled or not known else "enabled"
            result.changes.append(Change("create", "client", username, state, tuple(created)))
            continue
        commands: list[Command] = []
        details = []
        if have.roles != account.roles:
            commands.append(set_roles_command(account))
            details.append(f"roles {list(have.roles)} → {list(account.roles)}")
        if not password and account.password and have.textname != account.textname:
            # a service whose password changed (its fingerprint differs)
            password = account.password
            commands.append(
                {"command": "modifyClient", "username": username, "textname": account.textname}
            )
        if password:
            commands += set_password_commands(username, password, enable=not account.disabled)
            details.append("new password" + (", enabled" if have.disabled else ""))
            if account.disabled and not have.disabled:
                commands.append(disable_command(username))
                details.append("disabled")
        elif account.disabled and not have.disabled:
            commands.append(disable_command(username))
            details.append("disabled")
        elif have.disabled and not account.disabled and username.startswith(NODE_PREFIX):
            result.waiting.append(username)  # never enabled without its password
        elif have.disabled and not account.disabled:
            commands.append(enable_command(username))
            details.append("enabled")
        if commands:
            result.changes.append(
                Change("change", "client", username, "; ".join(details), tuple(commands))
            )
    for username in sorted(set(actual.accounts) - set(desired.accounts)):
        if owned(username) and username not in hands_off:
            result.changes.append(
                Change("delete", "client", username, "", tuple(delete_commands(username)))
            )
    for acltype, allow in desired.defaults.items():
        if actual.defaults.get(acltype) != allow:
            command = {
                "command": "setDefaultACLAccess",
                "acls": [{"acltype": acltype, "allow": allow}],
            }
            detail = "allow" if allow else "deny"
            result.changes.append(Change("change", "default", acltype, detail, (command,)))
    return result


def _acl_text(acls: frozenset[Acl]) -> str:
    return ", ".join(_one_acl(item) for item in sorted(acls)) or "no ACLs"


def _one_acl(item: Acl) -> str:
    return f"{item.acltype} {item.topic}" + ("" if item.allow else " deny")


def _acl_change(old: frozenset[Acl], new: frozenset[Acl]) -> str:
    parts = [f"+{_one_acl(item)}" for item in sorted(new - old)]
    parts += [f"-{_one_acl(item)}" for item in sorted(old - new)]
    return ", ".join(parts)
