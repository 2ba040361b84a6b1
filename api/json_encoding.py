"""GraphQL responses as JSON text, encoded by orjson (issue 12: a 1,000-lot genealogy tree is ~170 KB, and
the standard library's encoder spent ~5 ms of the request on it; orjson takes a tenth of that).

The text decodes to what strawberry's `json.dumps(data, separators=(",", ":"))` gives: the same keys in
the same order, the same values. orjson writes non-ASCII characters as UTF-8 instead of `\\u` escapes
(both are the same JSON string). Anything orjson refuses (an integer past 64 bits, a non-string key in
an extension) goes to the standard library, as before.
"""
from __future__ import annotations

import json

import orjson


def encode_json(data: object) -> str:
    """Text, not bytes: strawberry sends bytes on a websocket as a binary frame, which graphql-transport-ws
    does not allow."""
    try:
        return orjson.dumps(data).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(data, separators=(",", ":"))
