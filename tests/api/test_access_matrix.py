"""The access matrix, generated: every type reachable through `node(id:)` and `genealogy`, every field of it,
asked by every role and by a machine client of each scope, must answer as `api/access.py` (and so
docs/access.md) says. A type or field the table does not list fails the schema build, and so this test."""
from __future__ import annotations

import asyncio
from collections import deque
from pathlib import Path

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType

from api import ids
from api.access import ACCESS, field_grants, may_read
from api.access_doc import CLIENT_SCOPES, ROLES, render
from api.context import Context
from api.loaders import Loaders
from api.schema import NODE_TYPES, build_schema
from api.walls import object_types, unlisted_fields
from auth.principal import Principal
from auth.scopes import ROLE_SCOPES
from kernel.settings import Settings
from tests.api.walls_plant import build

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings(max_aliases=10_000, max_tokens=1_000_000, max_query_depth=50, max_query_cost=10**9)
SCHEMA = build_schema(SETTINGS)
GRAPH = SCHEMA._schema
GRANTS = field_grants()
# Reached only through other root fields, each guarded by its own scope (tests/api/test_authorization.py)
# and walled by the same table: audit, metrics, previews, rule validation and mutation payloads.
NOT_BELOW_NODE = {"AuditRecord", "AuditVerification", "AuditBreak", "BackflushMetrics", "TriggerPreview", "PlannedDraw",
                  "RuleValidation", "RuleTestResult", "SimulationResult", "UserError", "WorkOrderConnection",
                  "WorkOrderEdge", "ItemConnection", "ItemEdge", "LotConnection", "LotEdge",
                  # issue 14: reports (reports:read), the evidence pack (audit:read), labels and NCMRs (mutations)
                  "ControlSignal", "SupplierVariance", "WorkCenterVariance", "EvidencePack", "LabelVersion",
                  "Ncmr"} | {name for name in ACCESS if name.endswith("Payload")}

PRINCIPALS = {**{role: Principal(subject=f"user:{role.lower()}", name=role, kind="user", roles=frozenset({role}),
                                 scopes=ROLE_SCOPES[role], sites=frozenset({"*"})) for role in ROLES},
              **{f"client {scope}": Principal(subject=f"client:{scope}", name=scope, kind="client",
                                              scopes=frozenset({scope}), sites=frozenset({"*"}))
                 for scope in CLIENT_SCOPES}}


def _named(graphql_type):
    while isinstance(graphql_type, (GraphQLNonNull, GraphQLList)):
        graphql_type = graphql_type.of_type
    return graphql_type


def root_grant(field_name: str) -> frozenset[str]:
    [permission] = SCHEMA.get_field_for_type(field_name, "Query").permission_classes
    return frozenset(permission.required_scopes)


def entries(node_ids: dict[str, list[str]], genealogy_lot: str):
    """(entry type, how a query starts there, its closing braces, the root field's grant)."""
    for type_name, variants in node_ids.items():
        for global_id in variants:
            yield type_name, f'node(id: "{global_id}") {{ ... on {type_name} {{', "} }", root_grant("node")
    yield "GenealogyTree", f'genealogy(lotId: "{genealogy_lot}", direction: FORWARD) {{', "}", root_grant("genealogy")


def shortest_paths(start_types: list[str]) -> dict[str, tuple[str, tuple[tuple[str, str], ...]]]:
    """For every object type reachable from the entries: (entry type, the fields leading to it)."""
    found = {name: (name, ()) for name in start_types}
    queue = deque(start_types)
    while queue:
        name = queue.popleft()
        entry, path = found[name]
        for field_name, field in GRAPH.type_map[name].fields.items():
            target = _named(field.type)
            assert not any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()), (name, field_name)
            if isinstance(target, GraphQLObjectType) and target.name not in found:
                found[target.name] = (entry, path + ((name, field_name),))
                queue.append(target.name)
    return found


def selection(steps: tuple[tuple[str, str], ...], leaf_type) -> str:
    inner = "{ __typename }" if isinstance(_named(leaf_type), GraphQLObjectType) else ""
    for _, field_name in reversed(steps):
        inner = f"{field_name} {inner}" if inner.startswith("{") or not inner else f"{field_name} {{ {inner} }}"
    return inner


def probes(node_ids, genealogy_lot):
    """One aliased root selection per (entry variant, type, field): each fails or answers on its own path."""
    paths = shortest_paths(list(node_ids) + ["GenealogyTree"])
    starts = {}
    for entry_type, opening, closing, grant in entries(node_ids, genealogy_lot):
        starts.setdefault(entry_type, []).append((opening, closing, grant))
    for type_name, (entry_type, path) in paths.items():
        for field_name, field in GRAPH.type_map[type_name].fields.items():
            steps = path + ((type_name, field_name),)
            for opening, closing, grant in starts[entry_type]:
                yield steps, grant, f"{opening} {selection(steps, field.type)} {closing}"


def first_refusal(scopes: frozenset[str], root: frozenset[str], steps) -> int | None:
    """How many fields deep the first refusal lies (0: the root field), or None when everything is served."""
    if not may_read(scopes, root):
        return 0
    for depth, step in enumerate(steps, start=1):
        if not may_read(scopes, GRANTS[step]):
            return depth
    return None


def reached(value, names: list[str]) -> bool:
    """Whether the data holds the probe's last field somewhere (an empty list or null stops short)."""
    if isinstance(value, list):
        return any(reached(item, names) for item in value)
    if not isinstance(value, dict):
        return False
    if len(names) == 1:
        return names[0] in value
    return names[0] in value and reached(value[names[0]], names[1:])


@pytest.fixture
def walled_ids(sessions):
    walled = build(sessions)
    node_ids = {name: [walled.node_ids[name]] for name in (t.graphql_name() for t in NODE_TYPES)}
    node_ids["WorkOrder"].append(walled.node_ids["ClosedWorkOrder"])
    node_ids["Trigger"].append(walled.node_ids["PostedTrigger"])
    return node_ids, ids.encode("Lot", walled.lot_pks["C-1"])


def ask(sessions, principal: Principal, document: str):
    context = Context(sessions=sessions, principal=principal, settings=SETTINGS, loaders=Loaders(sessions))
    return asyncio.run(SCHEMA.execute(document, context_value=context))


def test_every_field_below_node_and_genealogy_answers_every_role_and_scope_as_the_matrix_says(sessions, walled_ids):
    node_ids, genealogy_lot = walled_ids
    batch = list(probes(node_ids, genealogy_lot))
    # `node` may be null, so its probes share one document; `genealogy` may not, so a refusal there nulls the
    # whole answer and each of its probes is asked alone
    shared = [f"p{i}: {text}" for i, (_, _, text) in enumerate(batch) if text.startswith("node(")]
    documents = ["{ " + " ".join(shared) + " }"] + [
        f"{{ p{i}: {text} }}" for i, (_, _, text) in enumerate(batch) if not text.startswith("node(")]
    mismatches, unreached = [], None
    for who, principal in PRINCIPALS.items():
        refused, data = {}, {}
        for document in documents:
            result = ask(sessions, principal, document)
            for error in result.errors or []:
                names = [p for p in error.path if isinstance(p, str)]
                refused.setdefault(names[0], set()).add((tuple(names[1:]), (error.extensions or {}).get("code")))
            data.update(result.data or {})
        missing = set()
        for i, (steps, root, _) in enumerate(batch):
            depth = first_refusal(principal.scopes, root, steps)
            expected = set() if depth is None else {(tuple(f for _, f in steps[:depth]), "FORBIDDEN")}
            got = refused.get(f"p{i}", set())
            if got != expected:
                mismatches.append(f"{who}: {'.'.join(f'{t}.{f}' for t, f in steps)}: expected {expected or 'served'}, "
                                  f"got {got or 'served'}")
            if depth is None and not reached(data.get(f"p{i}"), [f for _, f in steps]):
                missing.add(steps[-1])
        unreached = missing if unreached is None else unreached & missing
    assert mismatches == []
    # every field below the entries was answered at least once, so none of the above passed for want of data
    assert sorted(f"{t}.{f}" for t, f in unreached) == []


def test_the_walk_covers_every_object_type_but_those_reached_only_from_other_guarded_roots(walled_ids):
    node_ids, _ = walled_ids
    walked = set(shortest_paths(list(node_ids) + ["GenealogyTree"]))
    assert set(object_types(GRAPH)) - walked == NOT_BELOW_NODE


def test_every_type_and_field_of_the_schema_has_an_entry_in_the_table_and_no_entry_is_stale():
    assert unlisted_fields(GRAPH) == []


def test_a_new_type_or_field_without_an_entry_stops_the_schema_build(monkeypatch):
    import api.access
    lot_groups = dict(ACCESS["Lot"])
    monkeypatch.setitem(api.access.ACCESS, "Lot", {grant: fields.replace(" supplier", "")
                                                   for grant, fields in lot_groups.items()})
    with pytest.raises(RuntimeError, match=r"Lot\.supplier has no entry in api/access.py"):
        build_schema()


def test_docs_access_md_is_the_table_the_code_enforces():
    assert (ROOT / "docs" / "access.md").read_text(encoding="utf-8") == render(), \
        "run: python -m api.access_doc docs/access.md"


def test_the_partner_row_of_the_matrix_is_genealogy_only():
    partner = ROLE_SCOPES["PARTNER"]
    readable = sorted(f"{t}.{f}" for (t, f), grant in GRANTS.items() if grant and may_read(partner, grant))
    assert readable == sorted(
        [f"GenealogyTree.{f}" for f in ("direction", "edges", "truncated", "root", "lots")]
        + [f"GenealogyEdge.{f}" for f in ("quantity", "uom", "level", "reversed", "from", "to")]
        + [f"Lot.{f}" for f in ("id", "lotNumber", "expiresOn", "receivedAt", "item")]
        + [f"Item.{f}" for f in ("id", "code", "name")])
