"""What one GraphQL document may ask: tokens, aliases, depth, cost and time, each refused with a code.

Strawberry ships the token, alias and depth limiters; they are used as shipped and only given the
codes clients read in `extensions.code`. The cost budget is ours (api/query_cost.py). The limits run
before graphql-core's own validation, whose overlapping-fields rule takes time quadratic in the
number of aliases: a refused document costs the server its parse (at most `max_tokens`) and no more.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from functools import cache
from typing import Any

from graphql import ASTValidationRule, GraphQLError, GraphQLSyntaxError, TypeInfo, ValidationContext
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.extensions.base_extension import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.limit_codes import LimitCode
from api.query_cost import cost_error
from kernel.settings import Settings

log = logging.getLogger("backflush.api")



def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories: strawberry builds fresh extensions for every request."""
    return [lambda: TokenLimiter(max_token_count=settings.max_tokens), lambda: DocumentLimits(settings),
            MutationsRunToTheEnd]


_CODES = frozenset(LimitCode)


def limit_code(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return code if code in _CODES else None


class TokenLimiter(MaxTokensLimiter):
    """graphql-core stops parsing past the limit; its syntax error is given our code."""

    def on_parse(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if isinstance(error, GraphQLSyntaxError) and f"more than {self.max_token_count} tokens" in error.message:
                error.extensions = {**(error.extensions or {}), "code": LimitCode.TOO_MANY_TOKENS.value}


class DocumentLimits(SchemaExtension):
    """Aliases, depth and cost of the parsed document; any breach ends the request before validation."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors is None:
            errors = self._breaches(context.schema._schema, context.graphql_document, context.variables or {})
            if errors:
                context.pre_execution_errors = errors  # strawberry then skips validation and execution
        yield

    def _breaches(self, schema, document, variables) -> list[GraphQLError]:
        settings = self.settings
        errors: list[GraphQLError] = []
        validation = ValidationContext(schema, document, TypeInfo(schema), errors.append)
        for rule in _shape_rules(settings.max_aliases, settings.max_query_depth):
            rule(validation)  # each of these rules checks the whole document when it is built; no visit needed
        too_complex = cost_error(schema, document, variables, budget=settings.max_query_cost,
                                 default_first=settings.default_first)
        if too_complex is not None:
            errors.append(too_complex)
        return errors


@cache
def _shape_rules(max_aliases: int, max_depth: int) -> tuple[type[ASTValidationRule], ...]:
    """Built once per limit, not per request: a class made per request is also garbage in a reference cycle,
    which only the full collections free (issue 12)."""
    return (*_coded(MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules, LimitCode.TOO_MANY_ALIASES),
            *_coded(QueryDepthLimiter(max_depth=max_depth).validation_rules, LimitCode.QUERY_TOO_DEEP))


def _coded(rules: list[type[ASTValidationRule]], code: LimitCode) -> list[type[ASTValidationRule]]:
    return [_coded_rule(rule, code) for rule in rules]


def _coded_rule(rule: type[ASTValidationRule], code: LimitCode) -> type[ASTValidationRule]:
    class Coded(rule):  # type: ignore[valid-type,misc]  # a subclass of whichever rule is given
        def __init__(self, context: ValidationContext):
            report = context.on_error

            def with_code(error: GraphQLError) -> None:
                error.extensions = {**(error.extensions or {}), "code": code.value}
                report(error)
            context.on_error = with_code  # type: ignore[method-assign]  # graphql-core reads it as a hook
            try:
                super().__init__(context)
            finally:
                context.on_error = report  # type: ignore[method-assign]

    return Coded


class MutationsRunToTheEnd(SchemaExtension):
    """A mutation commits in a worker thread that cannot be stopped: cutting its answer short would
    hide an outcome that happened. Only queries are held to the deadline."""

    def on_execute(self) -> Iterator[None]:
        deadline = getattr(self.execution_context.context, "deadline", None)
        if deadline is not None and self.execution_context.operation_type is OperationType.MUTATION:
            deadline.reschedule(None)
        yield


async def within_deadline(seconds: float, context: Any, execute: Callable[[], Awaitable[ExecutionResult]],
                          query: str | None) -> ExecutionResult:
    """Run one operation; a query still running after `seconds` is answered QUERY_TIMEOUT."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            context.deadline = deadline
            return await execute()
    except TimeoutError:
        if not deadline.expired():
            raise
        log.warning("query stopped after %.1f s: %.200s", seconds, query)
        return ExecutionResult(data=None, errors=[GraphQLError(
            f"the query ran longer than {seconds:g} s and was stopped; ask for less (smaller `first`, fewer fields)",
            extensions={"code": LimitCode.QUERY_TIMEOUT.value})])
