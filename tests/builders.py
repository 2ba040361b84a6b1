"""Builders for a small plant, written in the domain's own words."""
from __future__ import annotations

from decimal import Decimal

from auth.passwords import hash_password
from auth.principal import Principal
from backflush.governance.signatures import SignatureRequest
from backflush.services import boms, conversions, masterdata, receiving, staging, work_orders
from backflush.services.commands import command
from models import User

QA_PASSWORD = "qa-secret-1"


def qa_user(sessions, username: str = "qa.lead", roles=("QA",), sites=("*",)) -> Principal:
    with command(sessions, None) as s:
        user = User(username=username, display_name=f"{username.title()} (QA)", password_hash=hash_password(QA_PASSWORD),
                    roles=list(roles), sites=list(sites))
        s.add(user)
        s.commit()
        return Principal(subject=f"user:{username}", name=user.display_name, kind="user", roles=frozenset(roles),
                         scopes=frozenset({"admin"}), sites=frozenset(sites), user_id=user.id)


def signed(meaning: str = "Approved", password: str = QA_PASSWORD) -> SignatureRequest:
    return SignatureRequest(meaning=meaning, password=password)


class Plant:
    """A site with STOCK, WIP, FINISHED and QUARANTINE locations, run by one QA principal."""

    def __init__(self, sessions, principal: Principal, site_code: str = "P1"):
        self.sessions, self.principal = sessions, principal
        with command(sessions, principal) as s:
            site = masterdata.create_site(s, principal, code=site_code, name=f"Plant {site_code}")
            self.site_code, self.site_id = site.code, site.id
            self.locations = {kind: masterdata.create_location(s, principal, site_code=site_code, code=kind, kind=kind).id
                              for kind in ("STOCK", "WIP", "FINISHED", "QUARANTINE")}
            s.commit()

    def run(self, fn, *args, **kwargs):
        with command(self.sessions, self.principal) as s:
            result = fn(s, self.principal, *args, **kwargs)
            s.commit()
            return result

    def item(self, code: str, uom: str = "kg", precision: int = 3, **flags):
        return self.run(masterdata.create_item, masterdata.ItemSpec(code=code, name=code, base_uom=uom,
                                                                     precision=precision, **flags))

    def conversion(self, item_code, from_uom, to_uom, factor: str):
        conversion = self.run(conversions.create_conversion, item_code=item_code, from_uom=from_uom, to_uom=to_uom, factor=factor)
        return self.run(conversions.approve_conversion, conversion_id=conversion.id, signature=signed(), effective_from=None)

    def bom(self, item_code: str, lines: list[boms.LineSpec], base_quantity: str = "1", approve: bool = True):
        bom = self.run(boms.create_bom, item_code=item_code, base_quantity=base_quantity, lines=lines)
        if approve:
            bom = self.run(boms.approve_bom, bom_id=bom.id, signature=signed(), effective_from=None)
        return bom

    def receive(self, item_code: str, lot_number: str, quantity: str, **extra):
        receipt = receiving.Receipt(item_code=item_code, lot_number=lot_number, quantity=quantity,
                                    location_id=self.locations["STOCK"], **extra)
        return self.run(receiving.receive_goods, receipt)

    def work_order(self, number: str, item_code: str, quantity: str = "100", operations=None, release: bool = True, **extra):
        spec = work_orders.WorkOrderSpec(
            number=number, item_code=item_code, quantity=quantity, site_code=self.site_code,
            wip_location_id=self.locations["WIP"], output_location_id=self.locations["FINISHED"],
            operations=operations or [work_orders.OperationSpec(seq=10, name="Make")], **extra)
        work_order = self.run(work_orders.create_work_order, spec)
        if release:
            work_order = self.run(work_orders.release_work_order, work_order_id=work_order.id, output_lot_number=None)
        return work_order

    def stage(self, work_order, lot, quantity: str, scan: str | None = None, from_kind: str = "STOCK", **extra):
        request = staging.StageRequest(work_order_id=work_order.id, lot_id=lot.id, from_location_id=self.locations[from_kind],
                                       quantity=quantity, scanned_lot_number=lot.lot_number if scan is None else scan, **extra)
        return self.run(staging.stage_lot, request)


def line(line_no: int, component: str, quantity: str, uom: str = "kg", **extra) -> boms.LineSpec:
    return boms.LineSpec(line_no=line_no, component_code=component, quantity=quantity, uom=uom, **extra)


D = Decimal


def trigger(work_order, good: str, *, key: str | None = None, scrap: str | None = None, operation_seq=None, **extra):
    from backflush.services.trigger_eval import TriggerInput

    trigger.counter = getattr(trigger, "counter", 0) + 1
    return TriggerInput(idempotency_key=key or f"k-{trigger.counter}", work_order_id=work_order.id,
                        kind=extra.pop("kind", "GOOD_UNITS_DECLARED"), good_quantity=good, scrap_quantity=scrap,
                        operation_seq=operation_seq, **extra)


def post(plant: Plant, request):
    from backflush.services.posting import submit_trigger

    return submit_trigger(plant.sessions, plant.principal, request)
