"""Image data access: images with their properties and tags, members, status changes, usage.

Every function takes a connection inside the caller's transaction and returns plain
dicts. An image dict holds the ``images`` columns plus ``properties`` (name -> value)
and ``tags`` (a sorted list). Visibility to a project is decided here, in SQL, so a
caller that may not see an image gets the same 404 as for one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from stratus.common.wsgi.errors import Conflict, NotFound
from stratus.imagesvc import schema as s

CORE_COLUMNS = tuple(c.name for c in s.images.columns)


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the project that lists or reads images, and whether it is an admin."""

    project_id: str | None
    is_admin: bool


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def image_not_found(image_id: str) -> NotFound:
    return NotFound(f"No image found with ID {image_id}")


def visible_to(viewer: Viewer):
    """The SQL condition under which ``viewer`` may read an image by its id."""
    if viewer.is_admin:
        return sa.true()
    i = s.images.c
    member_of = sa.select(s.image_members.c.image_id).where(
        s.image_members.c.member == viewer.project_id)
    return sa.or_(i.visibility.in_(("public", "community")), i.owner == viewer.project_id,
                  sa.and_(i.visibility == "shared", i.id.in_(member_of)))


# --- images ------------------------------------------------------------------------------

def get_image(conn: sa.Connection, image_id: str, viewer: Viewer, *,
              for_update: bool = False) -> dict:
    query = sa.select(s.images).where(s.images.c.id == image_id, visible_to(viewer))
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise image_not_found(image_id)
    return with_details(conn, [dict(row)])[0]


def with_details(conn: sa.Connection, rows: list[dict]) -> list[dict]:
    """Attach properties and tags to image rows: one query each for the whole list."""
    ids = [r["id"] for r in rows]
    props: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        p = s.image_properties.c
        for image_id, name, value in conn.execute(
                sa.select(p.image_id, p.name, p.value).where(p.image_id.in_(ids))):
            props[image_id][name] = value
        t = s.image_tags.c
        for image_id, value in conn.execute(
                sa.select(t.image_id, t.value).where(t.image_id.in_(ids)).order_by(t.value)):
            tags[image_id].append(value)
    for row in rows:
        row["properties"] = props[row["id"]]
        row["tags"] = tags[row["id"]]
    return rows


def create_image(conn: sa.Connection, values: dict, properties: dict[str, str],
                 tags: Iterable[str]) -> dict:
    stamp = now()
    row = {"status": "queued", "size": None, "virtual_size": None, "checksum": None,
           "os_hash_algo": None, "os_hash_value": None, "created_at": stamp,
           "updated_at": stamp, **values}
    try:
        with conn.begin_nested():
            conn.execute(s.images.insert().values(**row))
    except sa.exc.IntegrityError:
        raise Conflict(f"An image with identifier {values['id']} already exists") from None
    _insert_properties(conn, row["id"], properties)
    _insert_tags(conn, row["id"], tags)
    return with_details(conn, [row])[0]


def update_image(conn: sa.Connection, image: dict, core: dict, properties: dict[str, str],
                 tags: list[str]) -> dict:
    """Write an image's new core values, whole property set and whole tag list."""
    image_id = image["id"]
    conn.execute(s.images.update().where(s.images.c.id == image_id)
                 .values(**core, updated_at=now()))
    old = image["properties"]
    gone = [name for name in old if name not in properties]
    if gone:
        conn.execute(s.image_properties.delete().where(
            s.image_properties.c.image_id == image_id, s.image_properties.c.name.in_(gone)))
    for name, value in properties.items():
        if name in old and old[name] != value:
            conn.execute(s.image_properties.update().where(
                s.image_properties.c.image_id == image_id,
                s.image_properties.c.name == name).values(value=value))
    _insert_properties(conn, image_id, {k: v for k, v in properties.items() if k not in old})
    if sorted(set(tags)) != image["tags"]:
        conn.execute(s.image_tags.delete().where(s.image_tags.c.image_id == image_id))
        _insert_tags(conn, image_id, tags)
    return get_image(conn, image_id, Viewer(None, True))


def _insert_properties(conn: sa.Connection, image_id: str, properties: dict[str, str]) -> None:
    if properties:
        conn.execute(s.image_properties.insert(), [
            {"image_id": image_id, "name": k, "value": v} for k, v in properties.items()])


def _insert_tags(conn: sa.Connection, image_id: str, tags: Iterable[str]) -> None:
    unique = sorted(set(tags))
    if unique:
        conn.execute(s.image_tags.insert(), [{"image_id": image_id, "value": t}
                                             for t in unique])


def delete_image(conn: sa.Connection, image_id: str) -> None:
    # Children first: MySQL and SQLite honour ON DELETE CASCADE, but saying it costs nothing.
    for table in (s.image_properties, s.image_tags, s.image_members):
        conn.execute(table.delete().where(table.c.image_id == image_id))
    conn.execute(s.images.delete().where(s.images.c.id == image_id))


def change_status(conn: sa.Connection, image_id: str, from_statuses: tuple[str, ...],
                  to_status: str, **values) -> bool:
    """Move an image to ``to_status`` only if it is in one of ``from_statuses`` now.

    The condition is in the UPDATE itself, so two requests racing for the same
    transition (two uploads) cannot both win.
    """
    result = conn.execute(s.images.update().where(
        s.images.c.id == image_id, s.images.c.status.in_(from_statuses))
        .values(status=to_status, updated_at=now(), **values))
    return result.rowcount == 1


def storage_used(conn: sa.Connection, owner: str | None) -> int:
    """Bytes of image data ``owner`` stores, with its images locked until commit.

    The rows are read FOR UPDATE so two uploads finishing at once for one project are
    checked against the quota one after the other, never both against the old total.
    """
    # Every image of the owner is locked, sized or not: the uploading image is one of
    # them, so concurrent uploads of one project always meet on a common row.
    sizes = conn.execute(sa.select(s.images.c.size).where(
        s.images.c.owner == owner).with_for_update()).scalars()
    return sum(size or 0 for size in sizes)


# --- tags ---------------------------------------------------------------------------------

def add_tag(conn: sa.Connection, image_id: str, tag: str) -> None:
    exists = conn.execute(sa.select(s.image_tags.c.value).where(
        s.image_tags.c.image_id == image_id, s.image_tags.c.value == tag)).first()
    if exists is None:
        conn.execute(s.image_tags.insert().values(image_id=image_id, value=tag))
    touch(conn, image_id)


def delete_tag(conn: sa.Connection, image_id: str, tag: str) -> None:
    result = conn.execute(s.image_tags.delete().where(
        s.image_tags.c.image_id == image_id, s.image_tags.c.value == tag))
    if result.rowcount == 0:
        raise NotFound(f"Tag {tag} not found")
    touch(conn, image_id)


def touch(conn: sa.Connection, image_id: str) -> None:
    conn.execute(s.images.update().where(s.images.c.id == image_id).values(updated_at=now()))


# --- members ------------------------------------------------------------------------------

def list_members(conn: sa.Connection, image_id: str, only: str | None = None) -> list[dict]:
    m = s.image_members.c
    query = sa.select(s.image_members).where(m.image_id == image_id).order_by(m.created_at,
                                                                              m.member)
    if only is not None:
        query = query.where(m.member == only)
    return [dict(r) for r in conn.execute(query).mappings()]


def get_member(conn: sa.Connection, image_id: str, member: str) -> dict:
    rows = list_members(conn, image_id, only=member)
    if not rows:
        raise NotFound(f"{member} is not a member of image {image_id}.")
    return rows[0]


def add_member(conn: sa.Connection, image_id: str, member: str) -> dict:
    stamp = now()
    row = {"image_id": image_id, "member": member, "status": "pending", "created_at": stamp,
           "updated_at": stamp}
    try:
        with conn.begin_nested():
            conn.execute(s.image_members.insert().values(**row))
    except sa.exc.IntegrityError:
        raise Conflict(f"Member {member} already associated with image {image_id}.") from None
    return row


def count_members(conn: sa.Connection, image_id: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(s.image_members).where(
        s.image_members.c.image_id == image_id)).scalar_one()


def update_member(conn: sa.Connection, image_id: str, member: str, status: str) -> dict:
    m = s.image_members.c
    result = conn.execute(s.image_members.update().where(
        m.image_id == image_id, m.member == member).values(status=status, updated_at=now()))
    if result.rowcount == 0:
        raise NotFound(f"{member} is not a member of image {image_id}.")
    return get_member(conn, image_id, member)


def delete_member(conn: sa.Connection, image_id: str, member: str) -> None:
    m = s.image_members.c
    result = conn.execute(s.image_members.delete().where(m.image_id == image_id,
                                                         m.member == member))
    if result.rowcount == 0:
        raise NotFound(f"{member} is not a member of image {image_id}.")
