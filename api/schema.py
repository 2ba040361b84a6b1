"""The schema: root types merged from one class per family, with guards and limits."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import lru_cache

import strawberry
import strawberry.schema.schema as strawberry_schema
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from api.errors import CodedMaskErrors, should_mask
from api.mutations.exceptions import ExceptionMutations
from api.mutations.inventory import InventoryMutations
from api.mutations.masterdata import MasterDataMutations
from api.mutations.quality import QualityMutations
from api.mutations.rules import RuleMutations, RuleQueries
from api.mutations.triggers import TriggerMutations, TriggerQueries
from api.operation_timing import OperationTiming
from api.parse_cache import CachedParse
from api.permissions import assert_every_root_field_guarded
from api.plain_execution import PlainSubtreeExecutionContext
from api.queries import CoreQueries
from api.queries_discovery import DiscoveryQueries
from api.queries_genealogy import GenealogyQueries
from api.queries_insight import InsightQueries
from api.queries_metrics import MetricsQueries
from api.query_limits import limit_code, limit_extensions
from api.scalars import SCALAR_MAP
from api.subscriptions import Subscription
from api.types import exceptions, governance, inventory, masterdata, production
from api.walls import Rule, Walls, plan
from kernel.settings import Settings

Query = merge_types("Query", (CoreQueries, DiscoveryQueries, TriggerQueries, GenealogyQueries, MetricsQueries,
                              RuleQueries, InsightQueries))
Mutation = merge_types("Mutation", (MasterDataMutations, InventoryMutations, TriggerMutations, RuleMutations,
                                  ExceptionMutations, QualityMutations))

# Concrete Node types must be listed: `node(id:)` returns the interface only.
NODE_TYPES = [masterdata.Site, masterdata.Location, masterdata.Item, masterdata.UomConversion, masterdata.Bom,
              inventory.Lot, production.WorkOrder, production.Trigger, production.FlushPosting, production.Deviation,
              governance.RuleSet, exceptions.Reversal]


log = logging.getLogger("backflush.api")


class BackflushSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # A refused document is the client's doing: one line in the log, not the document echoed back.
        for error in errors:
            if code := limit_code(error):
                log.info("request refused, %s: %.200s", code, error.message)
        super().process_errors([error for error in errors if not limit_code(error)], execution_context)


VALIDATED_DOCUMENTS = 256


@lru_cache(maxsize=VALIDATED_DOCUMENTS)
def validated(schema, document, rules: tuple) -> list:
    """graphql-core's validation of one document against one schema, once per process (bounded LRU).
    Documents compare by content, so the same text sent again is a hit whoever sends it."""
    return strawberry_schema.validate_document(schema, document, rules)


class CachedValidation(SchemaExtension):
    """Validation through `validated`, after the document limits: a document they refused keeps its
    refusal and is never validated (strawberry validates only when no extension has set the errors)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors and context.graphql_document is not None:
            context.pre_execution_errors = list(validated(context.schema._schema, context.graphql_document,
                                                          tuple(context.validation_rules)))
        yield


def build_schema(settings: Settings | None = None, *,
                 execution_context_class: type = PlainSubtreeExecutionContext) -> strawberry.Schema:
    """The served schema; tests pass graphql-core's own execution context to compare the plain path against it."""
    settings = settings or Settings()
    rules: dict[tuple[str, str], Rule] = {}  # filled from the built schema below; every request's Walls reads it
    # ValidationCache: a client sends the same few documents again and again (a line posts one mutation
    # all day); validating each once per process took ~7 % of a served trigger (issue 12). Bounded LRU.
    extensions = [lambda: CodedMaskErrors(should_mask_error=should_mask), *limit_extensions(settings), OperationTiming,
                  lambda: Walls(rules), CachedParse, CachedValidation]
    if not settings.introspection:
        from strawberry.extensions import DisableIntrospection
        extensions.append(DisableIntrospection)
    schema = BackflushSchema(query=Query, mutation=Mutation, subscription=Subscription, types=NODE_TYPES, extensions=extensions,
                               config=StrawberryConfig(scalar_map=SCALAR_MAP),
                               execution_context_class=execution_context_class)
    assert_every_root_field_guarded(schema)
    rules.update(plan(schema._schema))
    return schema


def printed_schema() -> str:
    return build_schema().as_str() + "\n"
