"""A query text parsed once per process: clients send the same few documents again and again.

Strawberry's own ParserCache parses inside the extension's `on_parse`, where a syntax error escapes the
handling that answers it (the error in the answer, TOO_MANY_TOKENS coded by api/query_limits.py). Here the
extension only hands strawberry a document it has already parsed without error under the same options;
anything else strawberry parses as always, and the result is kept only when it parsed cleanly. Bounded LRU,
like the validation cache (api/schema.py), so unique texts cannot grow memory.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

PARSED_DOCUMENTS = 128

_parsed: OrderedDict[tuple, DocumentNode] = OrderedDict()
_lock = threading.Lock()  # requests run on the event loop, but execute_sync may be called from threads


class CachedParse(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if not isinstance(context.query, str) or context.graphql_document is not None:
            yield  # no text to key by, or a document given already: strawberry's as always
            return
        key = (context.query, tuple(sorted(context.parse_options.items())))
        with _lock:
            known = _parsed.get(key)
            if known is not None:
                _parsed.move_to_end(key)
        if known is not None:
            context.graphql_document = known  # strawberry parses only when no document is set
        yield
        if known is None and context.graphql_document is not None and not context.pre_execution_errors:
            with _lock:
                _parsed[key] = context.graphql_document
                if len(_parsed) > PARSED_DOCUMENTS:
                    _parsed.popitem(last=False)
