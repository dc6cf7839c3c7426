"""Placement state written straight into its database, for tests of the read paths."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from stratus.placement import db, schema
from stratus.placement.resource_classes import STANDARD_IDS
from stratus.placement.schema import CUSTOM_CLASS_ID_BASE


class Seed:
    """Providers, inventories, traits, aggregates and allocations written with SQL."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.ids: dict[str, int] = {}
        self.uuids: dict[str, str] = {}
        self.aggs: dict[str, str] = {}

    def provider(self, name: str, parent: str | None = None, inventory: dict | None = None,
                 traits: tuple[str, ...] = (), aggs: tuple[str, ...] = ()) -> str:
        rp_uuid = str(uuid.uuid4())
        with self.engine.begin() as conn:
            parent_id = self.ids[parent] if parent else None
            root_id = None
            if parent_id is not None:
                root_id = conn.execute(sa.select(schema.resource_providers.c.root_provider_id)
                                       .where(schema.resource_providers.c.id == parent_id)
                                       ).scalar_one()
            rp_id = conn.execute(schema.resource_providers.insert().values(
                uuid=rp_uuid, name=name, generation=0, parent_provider_id=parent_id,
                root_provider_id=root_id, **db.stamps())).inserted_primary_key[0]
            if root_id is None:
                conn.execute(schema.resource_providers.update()
                             .where(schema.resource_providers.c.id == rp_id)
                             .values(root_provider_id=rp_id))
            for rc, spec in (inventory or {}).items():
                spec = {"total": spec} if isinstance(spec, int) else spec
                conn.execute(schema.inventories.insert().values(
                    resource_provider_id=rp_id, resource_class_id=self._rc(conn, rc),
                    total=spec["total"], reserved=spec.get("reserved", 0),
                    min_unit=spec.get("min_unit", 1),
                    max_unit=spec.get("max_unit", spec["total"]),
                    step_size=spec.get("step_size", 1),
                    allocation_ratio=spec.get("allocation_ratio", 1.0), **db.stamps()))
            for trait in traits:
                conn.execute(schema.resource_provider_traits.insert().values(
                    resource_provider_id=rp_id, trait_id=self._trait(conn, trait),
                    **db.stamps()))
            for agg in aggs:
                conn.execute(schema.resource_provider_aggregates.insert().values(
                    resource_provider_id=rp_id, aggregate_id=self._agg(conn, agg),
                    **db.stamps()))
        self.ids[name], self.uuids[name] = rp_id, rp_uuid
        return rp_uuid

    def allocate(self, name: str, rc: str, used: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(schema.allocations.insert().values(
                resource_provider_id=self.ids[name], consumer_id=str(uuid.uuid4()),
                resource_class_id=self._rc(conn, rc), used=used, **db.stamps()))

    def _rc(self, conn, name: str) -> int:
        if name in STANDARD_IDS:
            return STANDARD_IDS[name]
        found = conn.execute(sa.select(schema.resource_classes.c.id)
                             .where(schema.resource_classes.c.name == name)).scalar()
        if found is None:
            top = conn.execute(sa.select(sa.func.max(schema.resource_classes.c.id))).scalar()
            found = max(top, CUSTOM_CLASS_ID_BASE) + 1
            conn.execute(schema.resource_classes.insert().values(id=found, name=name,
                                                                 **db.stamps()))
        return found

    def _trait(self, conn, name: str) -> int:
        return _get_or_insert(conn, schema.traits, "name", name)

    def _agg(self, conn, name: str) -> int:
        agg_uuid = self.aggs.setdefault(name, str(uuid.uuid4()))
        return _get_or_insert(conn, schema.placement_aggregates, "uuid", agg_uuid)


def _get_or_insert(conn, table: sa.Table, column: str, value: str) -> int:
    found = conn.execute(sa.select(table.c.id).where(table.c[column] == value)).scalar()
    if found is None:
        found = conn.execute(table.insert().values(
            {column: value, **db.stamps()})).inserted_primary_key[0]
    return found
