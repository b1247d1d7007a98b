"""The worker's side of the broker outbox: apply queued changes, reconcile the rest.

``apply_due`` claims due changes in id order (outbox.claim keeps one username's changes
in order, so a batch holds at most one change per username), opens one admin connection
to the dynamic security plugin and, per batch of up to 100 changes, reads the clients
and roles concerned in one request and sends every change's commands in requests of
``WRITE_BATCH``, not a round trip or two per change. The plugin itself (Mosquitto
2.0.11) rewrites its configuration file after each changing command, which bounds the
rate: 50 changing commands took 0.4 s at 100 clients, 0.9 s at 1,000, 2.6 s at 2,000;
1,500 changes to a broker of 1,000 clients took 254 s one request per change and 84-117 s
batched, on a loaded two-core machine (load 9-11). Each change brings one client and role
in line:

- ``upsert``, ``password``, ``disable``: the node as the database has it *now* (its
  role from the route table, disabled without a credential) against the broker's client
  and role (``getClient``/``getRole``), through the same diff as ``sensorgrid broker
  sync`` (accounts.diff), with the queued password if the change carries one. A node
  deleted meanwhile needs nothing: its ``delete`` change follows.
- ``enable`` (an organization unsuspended): as ``upsert``, and the node's client, if
  the broker has it disabled, is enabled with the password it kept (the diff alone never
  enables a node's client: it cannot know that the password there is the right one).
- ``delete``: the client (the plugin disconnects it) and its role; already gone is fine.
- ``routes``: every role whose ACLs differ from the route table (the service accounts'
  too); clients are left to their own changes and to the reconcile.

The plugin disconnects a client whose password changes, or that is disabled or deleted
(tests/brokerauth/test_lifecycle.py shows it for each), so a device connected with a
revoked credential is off at once, not at its next connection.

A broker that cannot be reached (down, no answer, admin login refused) ends the run:
the change tried waits for its backoff, the other claimed ones are released untried and
wait as long, so nothing is lost and nothing overtakes. A command the broker refuses
marks that change failed (``last_error``), counted on /metrics; any other exception (a
bug, routes naming an unknown decoder) retries that change after its backoff (a
``routes`` change fails after ``MAX_CRASHES``). Only upsert, password and enable read the
route table: a delete or disable applies even with a broken one.

Fail closed. A password change the broker refuses, or whose queued password cannot be
decrypted, disables the client (its old password must not go on working as if revoked)
and fails with "rotate the credential"; a client is enabled only in a second request,
once the broker has taken its new password.

``reconcile`` runs the whole diff (accounts.desired/actual) and records how many clients
and roles differed (``Reconciliation``: the drift on /metrics). The worker runs it every
``SENSORGRID_BROKER_RECONCILE_MINUTES``; it and the applier take turns (lease.py), so the
reconcile never sees a change half applied.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from sensorgrid.brokerauth import accounts, acl, lease, outbox
from sensorgrid.brokerauth.dynsec import Command, Dynsec, DynsecError, describe
from sensorgrid.brokerauth.metrics import APPLY_FAILURES
from sensorgrid.brokerauth.models import Action, BrokerChange, Reconciliation
from sensorgrid.env import ConfigurationError
from sensorgrid.ingest.mqtt.routes import Route
from sensorgrid.inventory.models import Node

log = logging.getLogger(__name__)

NOT_FOUND = ("Client not found", "Role not found")
#: commands per write request: the plugin saves its whole file after each changing
#: command, so a request of a few hundred commands to a broker with thousands of clients
#: could outlast SENSORGRID_BROKER_TIMEOUT and be sent again and again
WRITE_BATCH = 50
#: the reconcile holds the broker lease for this many SENSORGRID_BROKER_LEASE: it cannot
#: renew it halfway, and a whole inventory takes longer than a batch of changes
RECONCILE_LEASES = 10
#: a ``routes`` change that crashes (not a broker refusal) this many times is marked
#: failed: it would otherwise hold back every change after it for ever
MAX_CRASHES = 5
#: the actions whose commands need the route table (a node's role); delete and disable
#: apply without it, so a broken route never keeps a revocation from the broker
NEEDS_ROUTES = (Action.UPSERT, Action.PASSWORD, Action.ENABLE)


class Unreachable(Exception):
    """The broker cannot be asked now (the run stops; the changes wait)."""


def apply_due(now: datetime | None = None, limit: int = 10_000, batch: int = 100) -> int:
    """Apply what is due, oldest first (at most ``limit``); returns how many were applied.

    Does nothing unless ``SENSORGRID_BROKER_AUTH`` is ``dynsec``.
    """
    if not outbox.enabled():
        return 0
    held = lease.take(float(settings.SENSORGRID_BROKER_LEASE))
    if held is None:  # another worker applies (it goes on until nothing is due) or reconciles
        return 0
    done = 0
    dynsec: Dynsec | None = None
    try:
        while done < limit and held.renew():
            claimed = outbox.claim(now or timezone.now(), min(batch, limit - done))
            if not claimed:
                break
            if dynsec is None:
                try:
                    dynsec = _connect()
                except Unreachable as exc:
                    _postpone(claimed, str(exc), now)
                    break
            try:
                done += _apply_batch(dynsec, claimed, now)
            except Unreachable:
                break
    finally:
        if dynsec is not None:
            dynsec.close()
        held.release()
    return done


def _connect() -> Dynsec:
    try:
        dynsec = Dynsec.from_settings(timeout=float(settings.SENSORGRID_BROKER_TIMEOUT))
        dynsec.connect()
    except (DynsecError, ConfigurationError) as exc:  # no admin account set: wait for it too
        raise Unreachable(str(exc)) from exc
    return dynsec


def _postpone(claimed: list[outbox.Claimed], error: str, now: datetime | None) -> None:
    """The first claimed change counts a failed attempt; the rest wait as long, untried."""
    APPLY_FAILURES.labels("unreachable").inc()
    at = outbox.retry(claimed[0], error, now)
    for item in claimed[1:]:
        outbox.release(item, at)
    log.warning(
        "broker unreachable, %d change(s) wait until %s: %s", len(claimed), at.isoformat(), error
    )


class _EveryError(frozenset[str]):
    """``accept`` for ``Dynsec.execute`` that takes every error: one request carries the
    commands of many changes, and each change's answers are judged on their own."""

    def __contains__(self, item: object) -> bool:
        return True


EVERY_ERROR = _EveryError()


def _apply_batch(dynsec: Dynsec, claimed: list[outbox.Claimed], now: datetime | None) -> int:
    """Apply the claimed changes (one per username, outbox.claim) with one read and one
    write request for the whole batch: the plugin rewrites its configuration file after
    every request that changes something, so requests, not commands, cost the time."""
    suspended = {accounts.SUSPENDED: accounts.suspended_expression()}
    nodes = Node.objects.annotate(**suspended).in_bulk(
        [item.change.node_id for item in claimed if item.change.node_id is not None]
    )
    try:
        actual = _actual(dynsec, [node.broker_username for node in nodes.values()])
        plans: list[tuple[outbox.Claimed, list[Command], list[Command]]] = []
        routes: list[Route] | None = None
        closed: list[tuple[outbox.Claimed, str]] = []  # to disable: their password failed
        for item in claimed:
            node = nodes.get(item.change.node_id or 0)
            try:
                if routes is None and item.change.action in NEEDS_ROUTES:
                    routes = acl.device_routes()  # may raise: a bad route setting
                planned = _commands(dynsec, item.change, node, actual, routes)
                plans.append((item, *_enable_last(planned)))
            except outbox.SecretUnreadable as exc:
                closed.append((item, str(exc)))
            except DynsecError:
                raise
            except Exception as exc:  # a bug or a bad setting (routes): retried, never lost
                _crashed(item, exc, now)
        commands = [command for _, planned, _ in plans for command in planned]
        answers = dynsec.execute(commands, batch=WRITE_BATCH, accept=EVERY_ERROR)
    except DynsecError as exc:  # not asked, or the admin may not even read: all wait
        waiting = [item for item in claimed if _still_claimed(item)]
        if waiting:
            _postpone(waiting, str(exc), now)
        raise Unreachable(str(exc)) from exc
    done: list[tuple[outbox.Claimed, list[Command]]] = []
    position = 0
    for item, planned, enable in plans:
        mine = answers[position : position + len(planned)]
        position += len(planned)
        accepted = NOT_FOUND if item.change.action == Action.DELETE else ()
        refused = [answer for answer in mine if answer.error and answer.error not in accepted]
        if refused:
            first = refused[0]
            error = f"{describe(first.command)}: the broker says {first.error!r}"
            if _sets_password(planned) or item.change.secret:
                closed.append((item, error))
            else:
                _refused(item, error)
            continue
        done.append((item, enable))
    # second request: enable only the clients whose new password the broker took, and
    # disable those whose password change failed (fail closed: their old password must
    # not keep working as if the rotation had revoked it)
    followup = [command for _, enable in done for command in enable]
    followup += [accounts.disable_command(item.change.username) for item, _ in closed]
    try:
        answers = dynsec.execute(followup, batch=WRITE_BATCH, accept=EVERY_ERROR)
    except DynsecError as exc:
        waiting = [item for item in claimed if _still_claimed(item)]
        if waiting:
            _postpone(waiting, str(exc), now)
        raise Unreachable(str(exc)) from exc
    applied = 0
    position = 0
    for item, enable in done:
        refused = [a for a in answers[position : position + len(enable)] if a.error]
        position += len(enable)
        if refused:
            _refused(item, f"{describe(refused[0].command)}: the broker says {refused[0].error!r}")
            continue
        outbox.applied(item)
        applied += 1
        log.info(
            "broker change applied: %s %s", item.change.action, item.change.username or "every node"
        )
    for item, error in closed:
        _refused(item, f"{error}; the client is disabled until then: rotate the credential")
    return applied


def _enable_last(planned: list[Command]) -> tuple[list[Command], list[Command]]:
    """Split off the ``enableClient`` of a change that sets a password: it is sent only
    once the broker took the password (a refused one must not enable the old password)."""
    if not _sets_password(planned):
        return planned, []
    enable = [command for command in planned if command["command"] == "enableClient"]
    return [command for command in planned if command["command"] != "enableClient"], enable


def _sets_password(planned: list[Command]) -> bool:
    return any(command["command"] == "setClientPassword" for command in planned)


def _crashed(item: outbox.Claimed, exc: Exception, now: datetime | None) -> None:
    """A bug or a bad setting (routes): retried after its backoff; a ``routes`` change
    (a barrier for every change after it) is marked failed after ``MAX_CRASHES``."""
    error = f"{type(exc).__name__}: {exc}"
    if item.change.action == Action.ROUTES and item.change.attempts >= MAX_CRASHES:
        log.exception("broker change %s crashed %d times; failed", item.change, MAX_CRASHES)
        _refused(item, f"crashed {item.change.attempts} times: {error}")
        return
    log.exception("broker change %s crashed; retried after its backoff", item.change)
    APPLY_FAILURES.labels("error").inc()
    outbox.retry(item, error, now)


def _still_claimed(item: outbox.Claimed) -> bool:
    return item.mine().exists()


def _refused(item: outbox.Claimed, error: str) -> None:
    APPLY_FAILURES.labels("refused").inc()
    outbox.failed(item, error)
    log.warning("broker change %s failed: %s", item.change, error)


def _commands(
    dynsec: Dynsec,
    change: BrokerChange,
    node: Node | None,
    actual: accounts.State,
    routes: list[Route] | None,
) -> list[Command]:
    if change.action == Action.DELETE:
        return accounts.delete_commands(change.username, role=change.username)
    if change.action == Action.ROUTES:
        return _route_commands(dynsec)
    if node is None:
        return []  # deleted since: its delete change follows this one
    if routes is None:
        try:
            routes = acl.device_routes()
        except Exception:  # a broken route table: disable anyway, the role waits
            log.exception("broker change %s: route table broken; disabling only", change)
            have_client = actual.accounts.get(change.username)
            if have_client is not None and not have_client.disabled:
                return [accounts.disable_command(change.username)]
            return []
    password = outbox.unseal(change.secret) if change.secret else None
    account, role = accounts.node_account(node, routes)
    want = accounts.State()
    want.add(account, role)
    have = accounts.State()
    if account.username in actual.accounts:
        have.accounts[account.username] = actual.accounts[account.username]
    if role.name in actual.roles:
        have.roles[role.name] = actual.roles[role.name]
    passwords = {account.username: password} if password else {}
    commands = accounts.diff(want, have, passwords).commands
    have_account = have.accounts.get(account.username)
    # the diff never enables a node's client (it cannot know the password there)
    unsuspended = change.action == Action.ENABLE and not account.disabled
    if unsuspended and have_account is not None and have_account.disabled:
        commands.append(accounts.enable_command(account.username))
    return commands


def _actual(dynsec: Dynsec, usernames: list[str]) -> accounts.State:
    """These nodes' clients and roles (named alike) as the broker has them, absent ones
    left out: one request."""
    commands: list[Command] = []
    for username in usernames:
        commands.append({"command": "getClient", "username": username})
        commands.append({"command": "getRole", "rolename": username})
    state = accounts.State()
    for answer in dynsec.execute(commands, accept=NOT_FOUND) if commands else []:
        if answer.error:
            continue
        if answer.command["command"] == "getClient":
            item = answer.data.get("client", {})
            username = answer.command["username"]
            state.accounts[username] = accounts.Account(
                username,
                tuple(entry["rolename"] for entry in item.get("roles", [])),
                disabled=bool(item.get("disabled", False)),
            )
        else:
            item = answer.data.get("role", {})
            rolename = answer.command["rolename"]
            state.roles[rolename] = accounts.Role(
                rolename,
                frozenset(
                    accounts.Acl(
                        acl["acltype"],
                        acl["topic"],
                        bool(acl.get("allow")),
                        int(acl.get("priority", 0)),
                    )
                    for acl in item.get("acls", [])
                ),
            )
    return state


def _route_commands(dynsec: Dynsec) -> list[Command]:
    """Every existing role brought in line with the route table (roles only)."""
    result = accounts.diff(accounts.desired(), accounts.actual(dynsec))
    return [
        command
        for change in result.changes
        if change.what == "role" and change.kind == "change"
        for command in change.commands
    ]


# -- reconcile --------------------------------------------------------------------------


def pending_passwords() -> dict[str, str]:
    """Passwords waiting in the outbox, the newest per username (accounts.diff's
    ``passwords``: a client the reconcile must create gets its real password)."""
    passwords: dict[str, str] = {}
    rows = outbox.pending().exclude(secret="").order_by("pk").values_list("username", "secret")
    for username, secret in rows:
        try:
            passwords[username] = outbox.unseal(secret)
        except outbox.SecretUnreadable:
            continue
    return passwords


def reconcile(dry_run: bool = False, now: datetime | None = None) -> accounts.Diff:
    """Make the broker match the inventory; the diff found (applied unless ``dry_run``).

    A run that completes is recorded with its drift (the number of clients and roles
    that differed); one that cannot reach the broker is recorded with the error and
    raises DynsecError, as does one that waited in vain for the applier's turn to end.

    It reads the broker before the inventory and holds the broker lease (lease.py), so a
    change the applier makes meanwhile cannot look like drift to undo.
    """
    run = Reconciliation(started_at=now or timezone.now())
    seconds = float(settings.SENSORGRID_BROKER_LEASE)
    held = lease.wait(seconds=seconds * RECONCILE_LEASES, patience=seconds)
    try:
        if held is None:
            raise DynsecError(
                f"the outbox applier has been busy with the broker for {seconds:g}s; try again"
            )
        with Dynsec.from_settings(timeout=float(settings.SENSORGRID_BROKER_TIMEOUT)) as dynsec:
            have = accounts.actual(dynsec)
            result = accounts.diff(accounts.desired(), have, pending_passwords())
            if not dry_run and result:
                dynsec.execute(result.commands)
    except DynsecError as exc:
        if not dry_run:
            run.error = str(exc)[:2000]
            run.save()
        raise
    finally:
        if held is not None:
            held.release()
    if not dry_run:
        run.drift = len(result.changes)
        run.commands = len(result.commands)
        run.finished_at = timezone.now()
        run.save()
        Reconciliation.objects.filter(started_at__lt=run.started_at - timedelta(days=7)).delete()
    if result:
        log.warning("broker drift: %s", "; ".join(str(change) for change in result.changes))
    return result


def reconcile_if_due(now: datetime | None = None) -> int | None:
    """Reconcile if the last run is ``SENSORGRID_BROKER_RECONCILE_MINUTES`` old; the drift
    found, or None when not due (or broker auth is off, or the broker cannot be reached)."""
    minutes = int(settings.SENSORGRID_BROKER_RECONCILE_MINUTES)
    if not outbox.enabled() or minutes <= 0:
        return None
    now = now or timezone.now()
    last = Reconciliation.objects.order_by("-started_at").values_list("started_at", flat=True)
    previous = last.first()
    if previous is not None and previous > now - timedelta(minutes=minutes) + timedelta(seconds=5):
        return None
    try:
        return len(reconcile(now=now).changes)
    except (DynsecError, ConfigurationError) as exc:
        log.warning("broker reconcile failed: %s", exc)
        return None
