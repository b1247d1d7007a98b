"""The plugin's own file, written directly: a first load of many nodes in seconds.

Mosquitto 2.0's dynamic security plugin rewrites its whole ``dynamic-security.json``
after every command that changes something, so a command costs time in proportion to
the number of clients and roles already there: a live sync of thousands of new nodes
takes minutes, 10,000 far longer (docs/performance.md, bench/broker_sync.py). The
plugin reads the file only when the broker starts, so for a first load (or any large
change) ``sensorgrid broker sync --config-file <file>`` brings the file itself in line
**while the broker is stopped**, and the broker starts with everything in place.

It applies the very commands of the live diff (accounts.diff) to the file's JSON, so
both ways end in the same state: same names, same ACLs, new clients disabled unless
their password is known (it is hashed here as the plugin does: PBKDF2-HMAC-SHA512, a
random 12-byte salt, 101 iterations), existing clients keep their password hash.
Whatever SensorGrid does not own (the admin, other clients, roles, groups, the default
ACL access of other acltypes) is kept as it is; the default for ``publishClientReceive``
is set as the live diff sets it (accounts.DEFAULT_ACCESS).
"""

import base64
import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sensorgrid.brokerauth import accounts
from sensorgrid.brokerauth.dynsec import Command, DynsecError, describe

ITERATIONS = 101  # the plugin's own default (Mosquitto 2.0)


def read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DynsecError(
            f"{path}: cannot read the plugin's file ({exc}); create it with "
            "`mosquitto_ctrl dynsec init <file> <admin-user>`"
        ) from exc
    if not isinstance(data, dict) or "clients" not in data or "roles" not in data:
        raise DynsecError(f"{path}: not a dynamic security file (no clients and roles)")
    return data


def state(data: dict[str, Any]) -> accounts.State:
    """The file's clients and roles, as ``accounts.actual`` reads them from the broker."""
    result = accounts.State()
    defaults = data.get("defaultACLAccess")
    if isinstance(defaults, dict):
        result.defaults = {str(key): bool(value) for key, value in defaults.items()}
    for item in data.get("roles", []):
        if accounts.owned(item["rolename"]):
            result.roles[item["rolename"]] = accounts.Role(
                item["rolename"],
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
    for item in data.get("clients", []):
        result.accounts[item["username"]] = accounts.Account(
            item["username"],
            tuple(role["rolename"] for role in item.get("roles", [])),
            disabled=bool(item.get("disabled", False)),
            textname=str(item.get("textName") or ""),
        )
    return result


def apply(data: dict[str, Any], commands: Iterable[Command]) -> dict[str, Any]:
    """``data`` changed by ``commands`` (those accounts.diff makes), as the plugin would."""
    clients = {item["username"]: item for item in data.get("clients", [])}
    roles = {item["rolename"]: item for item in data.get("roles", [])}
    defaults = dict(data.get("defaultACLAccess") or {})
    for command in commands:
        name = command["command"]
        if name == "setDefaultACLAccess":
            defaults.update({item["acltype"]: bool(item["allow"]) for item in command["acls"]})
        elif name in ("createRole", "modifyRole"):
            role = roles.setdefault(command["rolename"], {"rolename": command["rolename"]})
            if name == "createRole" and "acls" in role:
                raise DynsecError(
                    f"{describe(command)}: role exists", command, "Role already exists"
                )
            role["acls"] = list(command.get("acls", []))
        elif name == "deleteRole":
            roles.pop(command["rolename"], None)
            for client in clients.values():
                client["roles"] = [
                    r for r in client.get("roles", []) if r["rolename"] != command["rolename"]
                ]
        elif name == "createClient":
            if command["username"] in clients:
                raise DynsecError(f"{describe(command)}: exists", command, "Client already exists")
            client = {"username": command["username"], "roles": list(command.get("roles", []))}
            if command.get("textname"):
                client["textName"] = command["textname"]  # the file's spelling
            if command.get("password"):
                client.update(_hashed(command["password"]))
            clients[command["username"]] = client
        else:
            client = clients.get(command.get("username", ""))
            if client is None:
                raise DynsecError(
                    f"{describe(command)}: no such client", command, "Client not found"
                )
            if name == "modifyClient":
                if "roles" in command:
                    client["roles"] = list(command["roles"])
                if "textname" in command:
                    client["textName"] = command["textname"]
            elif name == "setClientPassword":
                client.update(_hashed(command["password"]))
            elif name in ("enableClient", "disableClient"):
                client.pop("disabled", None)
                if name == "disableClient":
                    client["disabled"] = True
            elif name == "deleteClient":
                del clients[command["username"]]
            else:
                raise DynsecError(f"{describe(command)}: not supported in a file", command)
    changed = dict(data, clients=list(clients.values()), roles=list(roles.values()))
    if defaults:
        changed["defaultACLAccess"] = defaults
    return changed


def write(path: Path, data: dict[str, Any]) -> None:
    """Replace the file atomically, owner-only (it holds password hashes)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        json.dump(data, handle, indent=1)
    if path.exists():
        stat = path.stat()
        with contextlib.suppress(PermissionError):  # the broker's user keeps reading it
            os.chown(temporary, stat.st_uid, stat.st_gid)
    os.replace(temporary, path)


def _hashed(password: str) -> dict[str, Any]:
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS, 64)
    return {
        "password": base64.b64encode(digest).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": ITERATIONS,
    }
