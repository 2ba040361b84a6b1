"""The genealogy query: what is in a lot, or where it went (SPEC §5)."""
from __future__ import annotations

import strawberry
from graphql import GraphQLError
from sqlalchemy.orm import Session

import models
from api import ids
from api.permissions import guarded
from api.types.enums import GenealogyDirection
from api.types.genealogy import GenealogyTree
from auth.principal import Principal
from backflush.reads import genealogy, records as reads

WALKS = {GenealogyDirection.BACKWARD: genealogy.backward_tree, GenealogyDirection.FORWARD: genealogy.forward_tree}
DESCRIPTION = (f"BACKWARD: what is in the lot; FORWARD: where it went (recall). maxDepth defaults to "
               f"{genealogy.DEFAULT_DEPTH} and is held within 1..{genealogy.MAX_DEPTH}; truncated says edges were cut")


@strawberry.type
class GenealogyQueries:
    @strawberry.field(**guarded("genealogy:read"), description=DESCRIPTION)
    async def genealogy(self, info: strawberry.Info, lot_id: strawberry.ID, direction: GenealogyDirection,
                        max_depth: int | None = None, include_reversed: bool = True) -> GenealogyTree:
        tree = await info.context.read(lambda s: visible_tree(
            s, info.context.principal, lot_pk=ids.pk_of(lot_id, "Lot"), direction=direction,
            max_depth=max_depth, include_reversed=include_reversed))
        if tree is None:
            raise GraphQLError("lot not found", extensions={"code": "NOT_FOUND"})
        return GenealogyTree.from_tree(tree)


def visible_tree(session: Session, principal: Principal, *, lot_pk: int | None, direction: GenealogyDirection,
                 max_depth: int | None, include_reversed: bool) -> genealogy.Tree | None:
    """The tree, or None when the root lot is unknown or lies outside the principal's sites."""
    if lot_pk is None or reads.record_in_sites(session, principal, models.Lot, lot_pk) is None:
        return None
    tree = WALKS[direction](session, root_lot_id=lot_pk, max_depth=max_depth, include_reversed=include_reversed)
    site_ids = reads.visible_site_ids(session, principal)
    return tree if site_ids is None else genealogy.within_sites(session, tree, site_ids)
