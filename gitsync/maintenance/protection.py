"""Protection: users, roles and rights, kept as records in ``protection/<user>.json``.

Protection is on while the list holds a live user. Rights are enforced in the
commands (``gitsync.rules.commit_checked`` checks the author's rights for what a
change touches) and in every parent's pre-receive hook against each pushed
commit's author (``gitsync.rules.syncstate``).
"""

from __future__ import annotations

from typing import Any

from gitsync.errors import UsageError
from gitsync.model import canonical
from gitsync.model.records import KINDS, RIGHTS, is_valid_id
from gitsync.repo.clientfile import ClientFile
from gitsync.rules.commit import commit_checked
from gitsync.rules.syncstate import ROLE_RIGHTS, protection_on, require_right

USERS = KINDS["user"].folder


def add_user(
    client_file: ClientFile, name: str, role: str, rights: list[str] | None = None
) -> dict[str, Any]:
    """Add (or update) a protected user with a role's rights, or the rights given."""
    if not is_valid_id(name):
        raise UsageError(f"'{name}': a user name is letters, digits, '.', '_' and '-'")
    if role not in ROLE_RIGHTS and rights is None:
        raise UsageError(
            f"unknown role '{role}' (roles: {', '.join(ROLE_RIGHTS)}; or give --right)"
        )
    granted = list(rights) if rights is not None else list(ROLE_RIGHTS[role])
    unknown = [r for r in granted if r not in RIGHTS]
    if unknown:
        raise UsageError(f"unknown right '{unknown[0]}' (rights: {', '.join(RIGHTS)})")
    with client_file.locked():
        snapshot = client_file.snapshot()
        who = client_file.identity()
        if not protection_on(snapshot):
            if "manage-protection" not in granted:
                raise UsageError(
                    "the first protected user must hold 'manage-protection' (role partner or manager), "
                    "or nobody could manage protection afterwards"
                )
        else:
            require_right(snapshot, who.name, "manage-protection", KINDS["user"].path_for(name))
        record = {"name": name, "role": role, "rights": sorted(granted), "modified": who.modified()}
        commit_checked(
            client_file,
            {KINDS["user"].path_for(name): canonical.dumps(record)},
            f"Protection: user {name} ({role})",
            identity=who,
        )
    return record


def protect_off(client_file: ClientFile) -> list[str]:
    """Turn protection off: every protected user is marked deleted. Needs 'manage-protection'."""
    with client_file.locked():
        snapshot = client_file.snapshot()
        who = client_file.identity()
        if not protection_on(snapshot):
            raise UsageError("protection is already off")
        require_right(snapshot, who.name, "manage-protection", USERS)
        changes = {}
        for path, record in snapshot.records(USERS):
            changes[path] = canonical.dumps(dict(record, deleted=True, modified=who.modified()))
        commit_checked(client_file, changes, "Protection off", identity=who)
    return sorted(changes)


def list_users(client_file: ClientFile) -> list[dict[str, Any]]:
    return [record for _, record in client_file.snapshot().records(USERS)]
