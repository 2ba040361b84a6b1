"""Root queries for master data, inventory, work orders and the audit trail."""
from __future__ import annotations

import strawberry

from api import ids
from api.node_registry import AUDIT_ENTITY, NODE_TYPES
from api.permissions import guarded
from api.types.audit import AuditRecord, AuditVerification
from api.types.enums import WorkOrderStatus
from api.types.inventory import Lot
from api.types.masterdata import Item
from api.types.node import Node, after_pk, cursor_of, page_info
from api.types.production import WorkOrder, WorkOrderConnection, WorkOrderEdge
from backflush.reads import records as reads


@strawberry.type
class CoreQueries:
    @strawberry.field(**guarded("production:read", "genealogy:read"))
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        decoded = ids.decode(id)
        if decoded is None or decoded[0] not in NODE_TYPES:
            return None
        model, graphql_type = NODE_TYPES[decoded[0]]
        row = await info.context.read(lambda s: reads.record_in_sites(s, info.context.principal, model, decoded[1]))
        return graphql_type.from_row(row) if row else None

    @strawberry.field(**guarded("production:read"))
    async def work_order(self, info: strawberry.Info, number: str) -> WorkOrder | None:
        row = await info.context.read(lambda s: reads.work_order_by_number(s, info.context.principal, number))
        return row and WorkOrder.from_row(row)

    @strawberry.field(**guarded("production:read"))
    async def work_orders(self, info: strawberry.Info, first: int | None = None, after: str | None = None,
                          status: WorkOrderStatus | None = None) -> WorkOrderConnection:
        page = await info.context.read(lambda s: reads.work_orders_page(
            s, info.context.principal, status=status.value if status else None, first=first, after_id=after_pk(after)))
        edges = [WorkOrderEdge(node=WorkOrder.from_row(r), cursor=cursor_of(r.id)) for r in page.rows]
        return WorkOrderConnection(edges=edges, page_info=page_info(page))

    @strawberry.field(**guarded("production:read", "genealogy:read"))
    async def lot(self, info: strawberry.Info, item_code: str, lot_number: str) -> Lot | None:
        row = await info.context.read(lambda s: reads.lot_by_number(
            s, info.context.principal, item_code=item_code, lot_number=lot_number))
        return row and Lot.from_row(row)

    @strawberry.field(**guarded("production:read"))
    async def item(self, info: strawberry.Info, code: str) -> Item | None:
        row = await info.context.read(lambda s: reads.item_by_code(s, code))
        return row and Item.from_row(row)

    @strawberry.field(**guarded("audit:read"), description="Newest first; entityId is a global ID")
    async def audit_trail(self, info: strawberry.Info, entity_id: strawberry.ID | None = None,
                          first: int | None = None) -> list[AuditRecord]:
        decoded = ids.decode(entity_id) if entity_id else None
        if entity_id and (decoded is None or decoded[0] not in AUDIT_ENTITY):
            return []
        entity = (AUDIT_ENTITY[decoded[0]], decoded[1]) if decoded else None
        rows = await info.context.read(lambda s: reads.audit_records(s, info.context.principal, entity=entity,
                                                                     first=first))
        return [AuditRecord.from_row(row, site_code) for row, site_code in rows]

    @strawberry.field(**guarded("audit:read"))
    async def verify_audit_trail(self, info: strawberry.Info) -> AuditVerification:
        result = await info.context.read(lambda s: reads.audit_verification(s, info.context.principal))
        return AuditVerification.from_result(result)
