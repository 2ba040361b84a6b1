"""List queries batch their look-ups: the statement count does not grow with the number of rows."""
from sqlalchemy import event

from tests.builders import Plant, line, qa_user

WORK_ORDERS = """
query { workOrders(first: 100) {
  edges { node { number quantity item { code baseUom } site { code }
                 bom { version lines { lineNo quantity component { code } alternates { ratio } } } } }
  pageInfo { hasNextPage endCursor } } }"""


def count_statements(engine):
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_fifty_work_orders_with_items_and_boms_take_a_bounded_number_of_statements(api, sessions, engine):
    plant = Plant(sessions, qa_user(sessions, "planner"))
    for code in ("C1", "C2", "C3"):
        plant.item(code, "kg", 3)
    for n in range(5):
        plant.item(f"FG{n}", "ea", 0)
        plant.bom(f"FG{n}", [line(1, "C1", "1"), line(2, "C2", "2"), line(3, "C3", "3")])
    for n in range(50):
        plant.work_order(f"WO-{n:03}", f"FG{n % 5}", release=False)
    statements = count_statements(engine)
    data = api(WORK_ORDERS)
    assert len(data["workOrders"]["edges"]) == 50
    assert data["workOrders"]["edges"][7]["node"]["bom"]["lines"][1]["quantity"] == "2"
    # work orders, items, sites, BOMs, lines, components, alternates, and the site scope: one batch each.
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 8, statements
