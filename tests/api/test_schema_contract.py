"""The checked-in schema.graphql is what the code serves, and it keeps the client contract."""
from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, find_breaking_changes

from api.permissions import unguarded_root_fields
from api.schema import build_schema as build_served_schema
from api.schema import printed_schema

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT.parent / "shared" / "contract" / "schema.graphql"

def test_the_checked_in_schema_is_what_the_code_serves():
    assert (ROOT / "schema.graphql").read_text() == printed_schema(), \
        "schema.graphql drifted: regenerate it with `python -c 'from api.schema import printed_schema; print(printed_schema(), end=\"\")' > schema.graphql`"


@pytest.mark.skipif(not CONTRACT.exists(), reason="the shared client contract is not beside this checkout")
def test_the_served_schema_breaks_no_contract_promise():
    breaks = find_breaking_changes(build_schema(CONTRACT.read_text()), build_schema(printed_schema()))
    assert [b.description for b in breaks] == []


def test_every_root_field_declares_a_permission():
    assert unguarded_root_fields(build_served_schema()) == []
