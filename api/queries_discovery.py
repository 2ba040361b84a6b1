"""Discovery and the correction worklist: what exists, within the caller's sites."""
from __future__ import annotations

import strawberry

from api.permissions import guarded
from api.types.enums import LocationKind, LotStatus
from api.types.inventory import Lot, LotConnection, LotEdge
from api.types.masterdata import Item, ItemConnection, ItemEdge, Location, Site
from api.types.node import after_pk, cursor_of, page_info
from api.types.production import Trigger, TriggerConnection, TriggerEdge
from backflush.reads import discovery


@strawberry.type
class DiscoveryQueries:
    @strawberry.field(**guarded("production:read"), description="The sites the caller may see")
    async def sites(self, info: strawberry.Info) -> list[Site]:
        rows = await info.context.read(lambda s: discovery.visible_sites(s, info.context.principal))
        return [Site.from_row(r) for r in rows]

    @strawberry.field(**guarded("production:read"), description="By site code, then location code")
    async def locations(self, info: strawberry.Info, site_code: str | None = None,
                        kind: LocationKind | None = None) -> list[Location]:
        rows = await info.context.read(lambda s: discovery.visible_locations(
            s, info.context.principal, site_code=site_code, kind=kind.value if kind else None))
        return [Location.from_row(r) for r in rows]

    @strawberry.field(**guarded("production:read"), description="search: part of the code or name, any case")
    async def items(self, info: strawberry.Info, first: int | None = None, after: str | None = None,
                    search: str | None = None) -> ItemConnection:
        page = await info.context.read(lambda s: discovery.items_page(s, search=search, first=first,
                                                                      after_id=after_pk(after)))
        edges = [ItemEdge(node=Item.from_row(r), cursor=cursor_of(r.id)) for r in page.rows]
        return ItemConnection(edges=edges, page_info=page_info(page))

    @strawberry.field(**guarded("production:read"))
    async def lots(self, info: strawberry.Info, first: int | None = None, after: str | None = None,
                   item_code: str | None = None, status: LotStatus | None = None,
                   site_code: str | None = None) -> LotConnection:
        page = await info.context.read(lambda s: discovery.lots_page(
            s, info.context.principal, item_code=item_code, status=status.value if status else None,
            site_code=site_code, first=first, after_id=after_pk(after)))
        edges = [LotEdge(node=Lot.from_row(r), cursor=cursor_of(r.id)) for r in page.rows]
        return LotConnection(edges=edges, page_info=page_info(page))

    @strawberry.field(**guarded("production:read"), description=(
        "BLOCKED triggers across every work order the caller may see, oldest first: the correction worklist"))
    async def blocked_triggers(self, info: strawberry.Info, first: int | None = None, after: str | None = None,
                               site_code: str | None = None) -> TriggerConnection:
        page = await info.context.read(lambda s: discovery.blocked_triggers_page(
            s, info.context.principal, site_code=site_code, first=first, after_id=after_pk(after)))
        edges = [TriggerEdge(node=Trigger.from_row(r), cursor=cursor_of(r.id)) for r in page.rows]
        return TriggerConnection(edges=edges, page_info=page_info(page))
