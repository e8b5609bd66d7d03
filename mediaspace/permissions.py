"""Who may do what with a media entry.

The only module that writes django-guardian's tables: the role → permission mapping,
the one-query look-ups of a user's roles, the `get_entry_for_user` access helper (404
when the user cannot see the entry, 403 when they may not act) and the grant and revoke
calls that services make, for the entry's permissions and its room's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase

from mediaspace.models import (
    Grant,
    MediaEntry,
    MediaEntryGroupObjectPermission,
    MediaEntryUserObjectPermission,
    Role,
)
from rooms import permissions as room_permissions
from rooms.models import Module, RoomGroupObjectPermission, RoomUserObjectPermission

if TYPE_CHECKING:
    from accounts.models import User


# Collaborator roles are permissions on the media entry; moderator roles are
# permissions on its room record.
COLLABORATOR_ROLES = (Role.CO_EDITOR, Role.CO_PUBLISHER, Role.CO_VIEWER)
MODERATOR_ROLES = (Role.ROOM_MODERATOR, Role.CHAT_MODERATOR)
ROLE_CODENAMES: dict[Role, str] = {
    Role.CO_EDITOR: "coedit_mediaentry",
    Role.CO_PUBLISHER: "copublish_mediaentry",
    Role.CO_VIEWER: "coview_mediaentry",
    Role.ROOM_MODERATOR: room_permissions.ROOM_MODERATOR,
    Role.CHAT_MODERATOR: room_permissions.CHAT_MODERATOR,
}
CODENAME_ROLES: dict[str, Role] = {codename: role for role, codename in ROLE_CODENAMES.items()}
ROLE_ORDER = {role: index for index, role in enumerate(Role)}
VISIBLE_TO_EVERYONE = (MediaEntry.Status.UNLISTED, MediaEntry.Status.PUBLISHED)
# Hand-written queries carry a set of roles as one integer, a bit per role.
ROLE_BITS: dict[Role, int] = {role: 1 << index for index, role in enumerate(ROLE_CODENAMES)}
MODERATOR_BITS = sum(ROLE_BITS[role] for role in MODERATOR_ROLES)


def sorted_roles(roles: Iterable[Role]) -> list[Role]:
    return sorted(roles, key=ROLE_ORDER.__getitem__)


def role_bits(roles: Iterable[Role]) -> int:
    return sum(ROLE_BITS[role] for role in set(roles))


def roles_from_bits(bits: int) -> tuple[Role, ...]:
    """Return the roles whose bits are set, strongest first (as `sorted_roles`)."""
    return tuple(role for role, bit in ROLE_BITS.items() if bits & bit)


def role_bit_sql(codename: str) -> str:
    """Return SQL for the bit of the role a permission codename column stands for."""
    cases = " ".join(
        f"WHEN '{name}' THEN {ROLE_BITS[role]}" for role, name in ROLE_CODENAMES.items()
    )
    return f"CASE {codename} {cases} ELSE 0 END"


def quoted_table(model) -> str:
    """Return the model's table name, quoted for hand-written SQL."""
    return connection.ops.quote_name(model._meta.db_table)


# Each guardian table holding roles on an entry (moderators' on its room, whose key is the
# entry's), and whether its rows are a group's.
ROLE_TABLES = (
    (MediaEntryUserObjectPermission, False),
    (MediaEntryGroupObjectPermission, True),
    (RoomUserObjectPermission, False),
    (RoomGroupObjectPermission, True),
)


class Access:
    """What one user may do with one entry."""

    def __init__(
        self, entry: MediaEntry, roles: frozenset[Role], moderation_on: bool | None = None
    ) -> None:
        self.entry = entry
        self.roles = roles
        self._moderation_on = moderation_on

    def __repr__(self) -> str:
        return f"Access({self.entry.pk}, {sorted(self.roles)})"

    @cached_property
    def moderation_on(self) -> bool:
        """Whether the ChatandCollaboration module is on; looked up only when asked."""
        if self._moderation_on is not None:
            return self._moderation_on
        return room_permissions.moderation_enabled() if self.entry.is_room else True

    @property
    def is_owner(self) -> bool:
        return Role.OWNER in self.roles

    @property
    def is_host(self) -> bool:
        """Owners and co-editors are the room's hosts."""
        return bool(self.roles & {Role.OWNER, Role.CO_EDITOR})

    @property
    def can_edit(self) -> bool:
        return self.is_host

    @property
    def can_publish(self) -> bool:
        return bool(self.roles & {Role.OWNER, Role.CO_PUBLISHER})

    @property
    def can_delete(self) -> bool:
        return self.is_owner

    @property
    def can_manage_collaborators(self) -> bool:
        return self.is_owner

    @property
    def can_manage_moderators(self) -> bool:
        return self.is_host and self.entry.is_room and self.moderation_on

    @property
    def can_manage_roles(self) -> bool:
        """Whether the user may open the Roles & permissions tab (owner and co-editors)."""
        return self.is_host

    @property
    def manageable_roles(self) -> tuple[Role, ...]:
        """Return the roles this user may grant, change and remove on the entry."""
        roles: tuple[Role, ...] = ()
        if self.can_manage_collaborators:
            roles += COLLABORATOR_ROLES
        if self.can_manage_moderators:
            roles += MODERATOR_ROLES
        return roles

    @property
    def can_see(self) -> bool:
        return bool(self.roles) or self.entry.status in VISIBLE_TO_EVERYONE

    @property
    def main_role(self) -> Role | None:
        """Return the role to show in lists: the strongest one held."""
        ordered = sorted_roles(self.roles)
        return ordered[0] if ordered else None


def _grants(user: User, *, moderation_on: bool | None = True) -> QuerySet[Grant]:
    """Return the user's grants, direct and through groups (the Grant view).

    The view already drops moderator grants while the module is off; `moderation_on`
    False drops them too, for callers that looked the switch up themselves.
    """
    grants = Grant.objects.filter(user=user)
    if moderation_on is False:
        grants = grants.exclude(codename__in=[ROLE_CODENAMES[role] for role in MODERATOR_ROLES])
    return grants


def _permission_rows(
    user: User, entry_ids: Iterable[int] | None = None, *, moderation_on: bool | None = True
):
    """Return one query of (entry id, codename) for the user's direct and group grants."""
    grants = _grants(user, moderation_on=moderation_on)
    if entry_ids is not None:
        grants = grants.filter(entry_id__in=entry_ids)
    return grants.values_list("entry_id", "codename")


def roles_for_entries(
    user: User, entries: Iterable[MediaEntry], *, moderation_on: bool | None = True
) -> dict[int, frozenset[Role]]:
    """Return the user's roles on each entry, with one query for all of them.

    An owner holds everything on their own entries, so those need no look-up.
    """
    entries = list(entries)
    roles: dict[int, set[Role]] = defaultdict(set)
    for entry in entries:
        if entry.owner_id == user.pk:
            roles[entry.pk].add(Role.OWNER)
    entry_ids = [entry.pk for entry in entries if entry.owner_id != user.pk]
    if entry_ids:
        # By hand: every entry page and list asks, and the ORM's compiling of this small
        # query on the Grant view costs more than running it.
        grants = connection.ops.quote_name(Grant._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT entry_id, codename FROM {grants} WHERE user_id = %s"
                f" AND entry_id IN ({', '.join(['%s'] * len(entry_ids))})",
                [user.pk, *entry_ids],
            )
            rows = cursor.fetchall()
        for entry_id, codename in rows:
            role = CODENAME_ROLES.get(codename)
            if role is not None and not (moderation_on is False and role in MODERATOR_ROLES):
                roles[entry_id].add(role)
    return {entry.pk: frozenset(roles[entry.pk]) for entry in entries}


def access_for_entries(
    user: User, entries: Iterable[MediaEntry], *, moderation_on: bool | None = None
) -> dict[int, Access]:
    """Return what the user may do with each entry: one permission query for the whole list."""
    entries = list(entries)
    # The Grant view folds the module's switch in: no need to ask for it up front.
    roles = roles_for_entries(user, entries, moderation_on=moderation_on)
    return {
        entry.pk: Access(entry=entry, roles=roles[entry.pk], moderation_on=moderation_on)
        for entry in entries
    }


def shared_entry_ids(
    user: User, roles: Iterable[Role] | None = None, *, moderation_on: bool = True
) -> list[int]:
    """Return the ids of entries shared with the user, directly or through a group."""
    rows = _permission_rows(user, moderation_on=moderation_on)
    codenames = {ROLE_CODENAMES[role] for role in roles} if roles is not None else None
    return sorted(
        {entry_id for entry_id, codename in rows if codenames is None or codename in codenames}
    )


def shared_with(
    user: User, roles: Iterable[Role] | None = None, *, moderation_on: bool | None = True
) -> Q:
    """Return a condition on MediaEntry: shared with the user, directly or through a group.

    A subquery, so the database never receives a list of thousands of ids.
    """
    grants = _grants(user, moderation_on=moderation_on)
    if roles is not None:
        grants = grants.filter(codename__in=sorted(ROLE_CODENAMES[role] for role in roles))
    return Q(pk__in=grants.values("entry_id"))


def shared_ids_sql(codenames: int = 0) -> str:
    """Return SQL for the ids of the entries shared with the user `%(user)s`, each once.

    What the Grant view gives, read from the four permission tables themselves: several
    times faster for someone who sees thousands of entries through their groups, as it
    joins the permission names only to filter by them, when `codenames` says how many
    (`%(codename0)s`, `%(codename1)s`...). Room grants count only while the
    ChatandCollaboration module is on (`MODULE_ON_PARAMS`), as in the view.
    """
    members = quoted_table(get_user_model().groups.through)
    named = _codenames_join_sql(codenames)
    selects = []
    for model, group, room in (
        (MediaEntryUserObjectPermission, False, False),
        (MediaEntryGroupObjectPermission, True, False),
        (RoomUserObjectPermission, False, True),
        (RoomGroupObjectPermission, True, True),
    ):
        sql = f"SELECT p.content_object_id AS id FROM {quoted_table(model)} p{named}"
        if group:
            sql += f" JOIN {members} m ON m.group_id = p.group_id WHERE m.user_id = %(user)s"
        else:
            sql += " WHERE p.user_id = %(user)s"
        if room:
            sql += f" AND {module_on_sql()}"
        selects.append(sql)
    return " UNION ".join(selects)


def _codenames_join_sql(codenames: int) -> str:
    """Return a JOIN keeping the permission rows `p` of `%(codename0)s`...; "" for none."""
    if not codenames:
        return ""
    wanted = ", ".join(f"%(codename{index})s" for index in range(codenames))
    return (
        f" JOIN {quoted_table(Permission)} perm ON perm.id = p.permission_id"
        f" AND perm.codename IN ({wanted})"
    )


# How many of a user's groups get an arm of their own in `shared_in_order_sql`. The
# groups past these share one more arm, which has to sort its rows.
GROUP_ARMS = 8


def shared_in_order_sql(
    *, column: str, direction: str, codenames: int = 0, where: Iterable[str] = ()
) -> str:
    """Return SQL for the first `%(part_limit)s` entries shared with `%(user)s`, in order.

    Rows (id, sort_key) ordered by `column`, one of the `EntrySortKeys` columns, in
    `direction`, then by id; only entries that meet `where` (conditions on the entry `e`)
    and, when `codenames` says how many, on which the user holds one of the permissions
    `%(codename0)s`... Room grants count only while the ChatandCollaboration module is on
    (`MODULE_ON_PARAMS`).

    Someone in large groups sees thousands of entries; sorting them all to show twenty
    reads every one. Instead each permission table gives, off its (holder, key, entry)
    index, the user's own rows in order, and each of the user's first GROUP_ARMS groups'
    rows in order: one arm of a compound SELECT each. The database merges the arms (its
    UNION also drops an entry held several ways) and stops once the page is full, having
    read little more than the page when most shared entries match (SQLite; PostgreSQL
    stops each arm at the page's end). The arm for the groups past GROUP_ARMS sorts its
    own rows, so it costs what sorting always did.
    """
    members = quoted_table(get_user_model().groups.through)
    joins = _codenames_join_sql(codenames)
    conditions = list(where)
    if conditions:
        joins += f" JOIN {quoted_table(MediaEntry)} e ON e.id = p.content_object_id"
    groups = f"SELECT m.group_id FROM {members} m WHERE m.user_id = %(user)s ORDER BY m.group_id"
    # OFFSET needs a LIMIT: -1 is none to SQLite, ALL to PostgreSQL.
    no_limit = "ALL" if connection.vendor == "postgresql" else "-1"
    holders = {
        False: ["p.user_id = %(user)s"],
        True: [
            *(f"p.group_id = ({groups} LIMIT 1 OFFSET {arm})" for arm in range(GROUP_ARMS)),
            f"p.group_id IN ({groups} LIMIT {no_limit} OFFSET {GROUP_ARMS})",
        ],
    }
    order = f" ORDER BY sort_key {direction}, id {direction} LIMIT %(part_limit)s"
    # PostgreSQL takes a group's grants for the average group's handful and sorts them all
    # rather than merge the arms: there each arm stops at a page's worth of entries (each
    # once, as a holder may hold several permissions on one).
    limited = connection.vendor == "postgresql"
    arms = []
    for model, is_group in ROLE_TABLES:
        room = f" AND {module_on_sql()}" if model in ROOM_TABLES else ""
        for holder in holders[is_group]:
            arm = (
                f"SELECT {'DISTINCT ' if limited else ''}p.content_object_id AS id,"
                f" p.{column} AS sort_key FROM {quoted_table(model)} p{joins}"
                f" WHERE {' AND '.join([holder, *conditions])}{room}"
            )
            arms.append(f"({arm}{order})" if limited else arm)
    return " UNION ".join(arms) + order


def get_entry_for_user(
    user: User, entry_id: int, *, need: str | None = None, for_update: bool = False
) -> Access:
    """Fetch the entry and the user's access to it, or refuse.

    Raises Http404 when the user cannot see the entry at all, and PermissionDenied when
    they can see it but `need` (an `Access` property such as "can_edit") is false.

    One hand-written query reads the entry, its owner, the module's switch and the user's
    roles: every entry page starts here, and the ORM's compiling of the two or three
    queries this takes otherwise costs several times what running them does.
    """
    if for_update:
        queryset = MediaEntry.objects.select_related("owner").select_for_update(of=("self",))
        try:
            entry = queryset.get(pk=entry_id)
        except MediaEntry.DoesNotExist:
            raise Http404("No such media entry.") from None
        access = access_for_entries(user, [entry])[entry.pk]
    else:
        access = _entry_access(user, entry_id)
    if not access.can_see:
        raise Http404("No such media entry.")
    if need is not None and not getattr(access, need):
        raise PermissionDenied
    return access


def _entry_access(user: User, entry_id: int) -> Access:
    """Return the entry (with its owner) and the user's access to it, in one query; or 404."""
    with connection.cursor() as cursor:
        cursor.execute(
            _entry_sql(),
            {"entry": entry_id, "user": user.pk, **MODULE_ON_PARAMS},
        )
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such media entry.")
    split = len(MediaEntry._meta.concrete_fields)
    entry = _from_row(MediaEntry, row[:split])
    owner = _from_row(get_user_model(), row[split:-2])
    MediaEntry._meta.get_field("owner").set_cached_value(entry, owner)
    moderation_on, bits = bool(row[-2]), row[-1]
    if entry.owner_id == user.pk:
        roles = frozenset({Role.OWNER})
    else:
        roles = roles_from_held(bits, moderation_on=moderation_on)
    return Access(entry, roles, moderation_on=moderation_on if entry.is_room else True)


def _user_fields() -> list:
    return get_user_model()._meta.concrete_fields


def _from_row(model, values):
    """Return a model instance from a row read by hand (aware datetimes, as the ORM gives)."""
    values = [
        timezone.make_aware(value, UTC)
        if isinstance(value, datetime) and timezone.is_naive(value)
        else value
        for value in values
    ]
    return model.from_db(connection.alias, None, values)


@cache
def held_bits_sql(entry: str) -> str:
    """Return SQL for the roles user `%(user)s` holds on `entry` (a column or a parameter).

    One sum of role bits: a UNION (not UNION ALL) of the bits, as they may hold a role both
    themselves and through one or more groups. Moderator bits count whether the module is
    on or not: see `roles_from_held`.
    """
    members = quoted_table(get_user_model().groups.through)
    held = [
        f"SELECT {role_bit_sql('perm.codename')} AS bit"
        f" FROM {quoted_table(model)} p"
        f" JOIN {quoted_table(Permission)} perm ON perm.id = p.permission_id"
        + (
            f" JOIN {members} m ON m.group_id = p.group_id AND m.user_id = %(user)s"
            f" WHERE p.content_object_id = {entry}"
            if is_group
            else f" WHERE p.content_object_id = {entry} AND p.user_id = %(user)s"
        )
        for model, is_group in ROLE_TABLES
    ]
    return f"(SELECT COALESCE(SUM(held.bit), 0) FROM ({' UNION '.join(held)}) held)"


def module_on_sql() -> str:
    """Return SQL for whether the ChatandCollaboration module is on (`%(module)s`, `%(on)s`)."""
    return (
        f"EXISTS (SELECT 1 FROM {quoted_table(Module)} module"
        " WHERE module.name = %(module)s AND module.enabled = %(on)s)"
    )


MODULE_ON_PARAMS = {"module": Module.Name.CHAT_AND_COLLABORATION, "on": True}


def roles_from_held(bits: int, *, moderation_on: bool) -> frozenset[Role]:
    """Return the roles of `held_bits_sql`: moderators count only while the module is on."""
    return frozenset(roles_from_bits(bits if moderation_on else bits & ~MODERATOR_BITS))


@cache
def _entry_sql() -> str:
    """Return the query behind `get_entry_for_user`, with the tables' real names."""
    quote = connection.ops.quote_name
    entry_columns = ", ".join(f"e.{quote(f.column)}" for f in MediaEntry._meta.concrete_fields)
    owner_columns = ", ".join(f"o.{quote(f.column)}" for f in _user_fields())
    return f"""
        SELECT {entry_columns}, {owner_columns}, {module_on_sql()}, {held_bits_sql("%(entry)s")}
        FROM {quoted_table(MediaEntry)} e
        JOIN {quoted_table(get_user_model())} o ON o.id = e.owner_id
        WHERE e.id = %(entry)s
    """


def principal_roles(entry: MediaEntry, principal: User | Group) -> frozenset[Role]:
    """Return the roles granted to this user or group itself (not through its groups).

    Hand-written, as the services read it under the entry's lock on every change.
    """
    kind = "group" if isinstance(principal, Group) else "user"
    with connection.cursor() as cursor:
        cursor.execute(_principal_roles_sql(kind), {"entry": entry.pk, "principal": principal.pk})
        (bits,) = cursor.fetchone()
    return frozenset(roles_from_bits(bits))


@cache
def _principal_roles_sql(kind: str) -> str:
    """Return the query behind `principal_roles` for a user or a group."""
    held = [
        f"SELECT {role_bit_sql('perm.codename')} AS bit"
        f" FROM {quoted_table(model)} p"
        f" JOIN {quoted_table(Permission)} perm ON perm.id = p.permission_id"
        f" WHERE p.content_object_id = %(entry)s AND p.{kind}_id = %(principal)s"
        for model, is_group in ROLE_TABLES
        if is_group == (kind == "group")
    ]
    return f"SELECT COALESCE(SUM(held.bit), 0) FROM ({' UNION ALL '.join(held)}) held"


def grant(entry: MediaEntry, principal: User | Group, roles: Iterable[Role]) -> None:
    """Give the user or group these roles on the entry (moderators' on its room).

    The services call this, and `revoke`, under the entry's lock and knowing what the user
    or group holds already: see `_permission_rows_add`.
    """
    roles = set(roles)
    collaborator = [ROLE_CODENAMES[role] for role in sorted_roles(roles & set(COLLABORATOR_ROLES))]
    moderator = [ROLE_CODENAMES[role] for role in sorted_roles(roles & set(MODERATOR_ROLES))]
    if collaborator:
        _permission_rows_add(_role_table(principal, room=False), principal, entry.pk, collaborator)
    if moderator:
        room_permissions.room_ensure(entry.pk)
        _permission_rows_add(_role_table(principal, room=True), principal, entry.pk, moderator)


def revoke(entry: MediaEntry, principal: User | Group, roles: Iterable[Role]) -> None:
    """Take these roles on the entry away from the user or group."""
    roles = set(roles)
    for room, kinds in ((False, COLLABORATOR_ROLES), (True, MODERATOR_ROLES)):
        codenames = [ROLE_CODENAMES[role] for role in sorted_roles(roles & set(kinds))]
        if codenames:
            model = _role_table(principal, room=room)
            with connection.cursor() as cursor:
                cursor.execute(
                    _permission_rows_sql(model, len(codenames), delete=True),
                    [entry.pk, principal.pk, *_permission_names(model), *codenames],
                )


def _role_table(principal: User | Group, *, room: bool):
    """Return the guardian table of the principal's roles on an entry, or on its room."""
    for model, is_group in ROLE_TABLES:
        if is_group == isinstance(principal, Group) and room == (model in ROOM_TABLES):
            return model
    raise AssertionError


ROOM_TABLES = (RoomUserObjectPermission, RoomGroupObjectPermission)


def _permission_rows_add(model, principal: User | Group, object_id: int, codenames: list[str]):
    """Write guardian's rows for these permissions, which the principal does not hold yet.

    One hand-written statement: guardian's assign_perm reads the permission, its content
    type and the row itself before writing it, four queries and a savepoint a permission.
    The rows are what assign_perm writes (the models have a direct foreign key).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _permission_rows_sql(model, len(codenames), delete=False),
            [principal.pk, object_id, *_permission_names(model), *codenames],
        )


def _permission_names(model) -> tuple[str, str]:
    """Return the app label and model name of what a guardian table's permissions are on."""
    target = model._meta.get_field("content_object").related_model._meta
    return target.app_label, target.model_name


@cache
def _permission_rows_sql(model, codenames: int, *, delete: bool) -> str:
    """Return SQL that adds (or deletes) a principal's rows for so many permissions."""
    holder = "group_id" if issubclass(model, GroupObjectPermissionBase) else "user_id"
    permission_ids = f"""
        SELECT p.id FROM {quoted_table(Permission)} p
        JOIN {quoted_table(ContentType)} ct ON ct.id = p.content_type_id
        WHERE ct.app_label = %s AND ct.model = %s
          AND p.codename IN ({", ".join(["%s"] * codenames)})"""
    if delete:
        return f"""
            DELETE FROM {quoted_table(model)}
            WHERE content_object_id = %s AND {holder} = %s
              AND permission_id IN ({permission_ids})"""
    return f"""
        INSERT INTO {quoted_table(model)} (permission_id, {holder}, content_object_id)
        SELECT permission.id, %s, %s FROM ({permission_ids}) permission"""


def held_entry_ids(principal: User | Group) -> list[int]:
    """Return the ids of the entries on which this user or group itself holds any role."""
    if isinstance(principal, Group):
        media_rows = MediaEntryGroupObjectPermission.objects.filter(group=principal)
        room_rows = RoomGroupObjectPermission.objects.filter(group=principal)
    else:
        media_rows = MediaEntryUserObjectPermission.objects.filter(user=principal)
        room_rows = RoomUserObjectPermission.objects.filter(user=principal)
    entry_ids = media_rows.values_list("content_object_id", flat=True).union(
        room_rows.values_list("content_object_id", flat=True)
    )
    return sorted(entry_ids)
