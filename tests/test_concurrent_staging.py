"""Two stagings that together exceed a lot's stock, on separate connections at the same moment."""
import threading
from decimal import Decimal

from sqlalchemy import select

from backflush.services import staging
from backflush.services.commands import command
from backflush.services.ledger import check_consistency
from kernel.errors import DomainError
from models import Balance
from tests.builders import Plant, line, qa_user


def test_only_one_of_two_competing_stagings_succeeds_and_no_balance_goes_negative(sessions):
    plant = Plant(sessions, qa_user(sessions))
    plant.item("API", "kg", 3)
    plant.item("TAB", "ea", 0)
    plant.bom("TAB", [line(1, "API", "0.5")])
    lot = plant.receive("API", "A-1", "10.000")
    orders = [plant.work_order(f"WO-{n}", "TAB") for n in (1, 2)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def stage(order):
        request = staging.StageRequest(work_order_id=order.id, lot_id=lot.id, from_location_id=plant.locations["STOCK"],
                                       quantity="6.000", scanned_lot_number="A-1")
        start.wait()
        try:
            with command(sessions, plant.principal) as s:
                staging.stage_lot(s, plant.principal, request)
                s.commit()
            outcomes.append("staged")
        except DomainError as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=stage, args=(order,)) for order in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["INSUFFICIENT_STOCK", "staged"]
    with sessions() as s:
        quantities = {b.location_id: b.quantity for b in s.scalars(select(Balance).where(Balance.lot_id == lot.id))}
        assert quantities == {plant.locations["STOCK"]: Decimal("4.000"), plant.locations["WIP"]: Decimal("6.000")}
        assert check_consistency(s) == []
