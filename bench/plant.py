"""The bench plant, built through the served API as a plant's own people and systems would build it.

Per BOM size (5, 10, 50 lines): a product whose BOM has that many BACKFLUSH lines of 0.25 kg each,
signed and approved; two pools of lots — SRV for the server, FLR for the floor, so neither steals the
other's stock — with two lots per component: A (expires first) and B. Every client gets its own
released work order, and every order stages part of each shared lot: A 2.600 kg (ten draws and a
remainder, so the eleventh trigger draws from two lots), B as much as the order can ever use.
All of a pool's orders stage to one WIP location, so concurrent clients share the (lot, WIP) balances.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bench.http_api import ADMIN_PASSWORD, GraphQL

SITE = "BENCH"
PER_UNIT = Decimal("0.250")  # kg of each component per unit made
FIRST_BINDING = Decimal("2.600")  # lot A staged per order: 10 full draws, then 0.100 + 0.150 from lot B
POOLS = ("SRV", "FLR")
BATCH = 20  # mutations per request while building


@dataclass(frozen=True)
class BenchOrder:
    number: str
    global_id: str


@dataclass(frozen=True)
class SizePlant:
    lines: int
    product: str
    orders: dict[tuple[str, int], tuple[BenchOrder, ...]]  # (pool, clients) → one order per client

    def for_run(self, pool: str, clients: int) -> tuple[BenchOrder, ...]:
        return self.orders[(pool, clients)]


def batch(api: GraphQL, field: str, input_type: str, inputs: list[dict], selection: str) -> list[dict]:
    """Send `field` once per input, BATCH to a request (a mutation's root fields run one after another)."""
    results = []
    for start in range(0, len(inputs), BATCH):
        chunk = inputs[start:start + BATCH]
        variables = ", ".join(f"$i{n}: {input_type}!" for n in range(len(chunk)))
        fields = " ".join(f"m{n}: {field}(input: $i{n}) {{ {selection} userErrors {{ code message }} }}"
                          for n in range(len(chunk)))
        data = api(f"mutation ({variables}) {{ {fields} }}", **{f"i{n}": value for n, value in enumerate(chunk)})
        results += [data[f"m{n}"] for n in range(len(chunk))]
    return results


def build_site(api: GraphQL) -> dict[str, str]:
    """The site and its locations; location global IDs by kind."""
    api("mutation ($input: CreateSiteInput!) { createSite(input: $input) { site { id } userErrors { code message } } }",
        input={"code": SITE, "name": "Bench plant"})
    made = batch(api, "createLocation", "CreateLocationInput",
                 [{"siteCode": SITE, "code": kind, "kind": kind} for kind in ("STOCK", "WIP", "FINISHED")],
                 "location { id kind }")
    return {payload["location"]["kind"]: payload["location"]["id"] for payload in made}


def build_size(api: GraphQL, locations: dict[str, str], *, lines: int, clients: list[int],
               caps: dict[str, int]) -> SizePlant:
    """`caps[pool]`: the most triggers one order of that pool may post (its planned quantity and stock)."""
    product, components = f"FG-{lines}L", [f"C{lines}L-{n:02d}" for n in range(1, lines + 1)]
    items = [{"code": product, "name": product, "baseUom": "ea", "precision": 0}]
    items += [{"code": code, "name": code, "baseUom": "kg", "precision": 3} for code in components]
    batch(api, "createItem", "CreateItemInput", items, "item { id }")
    _approved_bom(api, product, components)
    orders = {(pool, n): tuple(BenchOrder(f"{pool}-{lines}L-{n}C-{k}", "") for k in range(n))
              for pool in POOLS for n in clients}
    orders = {key: _released(api, locations, product, numbers, caps[key[0]]) for key, numbers in orders.items()}
    for pool in POOLS:
        pool_orders = [order for (p, _), group in orders.items() if p == pool for order in group]
        lots = _receive(api, locations, pool, components, orders=len(pool_orders), cap=caps[pool])
        _stage(api, locations, pool_orders, lots, cap=caps[pool])
    return SizePlant(lines, product, orders)


def _approved_bom(api: GraphQL, product: str, components: list[str]) -> None:
    lines = [{"lineNo": n, "componentCode": code, "quantity": str(PER_UNIT), "uom": "kg"}
             for n, code in enumerate(components, start=1)]
    bom = api("mutation ($input: CreateBomInput!) { createBom(input: $input) { bom { id } userErrors { code message } } }",
              input={"itemCode": product, "lines": lines})["createBom"]["bom"]["id"]
    api("mutation ($input: ApproveInput!) { approveBom(input: $input) { bom { status } userErrors { code message } } }",
        input={"id": bom, "signature": {"meaning": "Approved for the bench", "password": ADMIN_PASSWORD}})


def _released(api: GraphQL, locations: dict[str, str], product: str, orders: tuple[BenchOrder, ...],
              cap: int) -> tuple[BenchOrder, ...]:
    made = batch(api, "createWorkOrder", "CreateWorkOrderInput", [
        {"number": order.number, "itemCode": product, "quantity": str(cap), "siteCode": SITE,
         "wipLocationId": locations["WIP"], "outputLocationId": locations["FINISHED"],
         "operations": [{"seq": 10, "name": "Make"}]} for order in orders], "workOrder { id number }")
    ids = [payload["workOrder"]["id"] for payload in made]
    batch(api, "releaseWorkOrder", "ReleaseWorkOrderInput", [{"workOrderId": i} for i in ids], "workOrder { status }")
    return tuple(BenchOrder(order.number, i) for order, i in zip(orders, ids, strict=True))


def _second_binding(cap: int) -> Decimal:
    return PER_UNIT * cap + PER_UNIT  # what lot A does not cover, and one unit to spare


def _receive(api: GraphQL, locations: dict[str, str], pool: str, components: list[str], *, orders: int,
             cap: int) -> list[tuple[dict, dict]]:
    """Lots A and B of every component, enough for every order of the pool; (A, B) lot payloads per component."""
    today = date.today()
    inputs = []
    for code in components:
        for suffix, quantity, days in (("A", FIRST_BINDING, 200), ("B", _second_binding(cap), 400)):
            inputs.append({"itemCode": code, "lotNumber": f"{pool}-{code}-{suffix}", "quantity": str(quantity * orders),
                           "locationId": locations["STOCK"], "expiresOn": (today + timedelta(days=days)).isoformat()})
    lots = [payload["lot"] for payload in batch(api, "receiveGoods", "ReceiveGoodsInput", inputs, "lot { id lotNumber }")]
    return list(zip(lots[0::2], lots[1::2], strict=True))


def _stage(api: GraphQL, locations: dict[str, str], orders: list[BenchOrder], lots: list[tuple[dict, dict]],
           *, cap: int) -> None:
    inputs = [{"workOrderId": order.global_id, "lotId": lot["id"], "fromLocationId": locations["STOCK"],
               "quantity": str(quantity), "scannedLotNumber": lot["lotNumber"]}
              for order in orders for first, second in lots
              for lot, quantity in ((first, FIRST_BINDING), (second, _second_binding(cap)))]
    batch(api, "stageLot", "StageLotInput", inputs, "stagedLot { remainingQuantity }")
