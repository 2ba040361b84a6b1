"""The one table of text limits: every String input field of the schema, its longest value and
whether it may hold line breaks. Lengths come from the column the text is stored in, so a value that
passes here fits there; text without a bounded column (reasons, comments, passwords) gets a plain cap.
A test walks the schema and fails on a String input field missing here.
"""
from __future__ import annotations

from dataclasses import dataclass

import models


@dataclass(frozen=True)
class Text:
    max_length: int
    multiline: bool = False


def column(model, name: str, *, multiline: bool = False) -> Text:
    return Text(model.__table__.c[name].type.length, multiline)


REASON = Text(500, multiline=True)  # free text kept in audit rows and unbounded columns
NOTE = Text(2000, multiline=True)
PASSWORD = Text(256)  # checked against a hash, never stored; long enough for any passphrase
ID = Text(100)  # an opaque global id is base64 of "Type:pk": far shorter
JSON_TEXT = Text(20_000, multiline=True)  # each string inside a rule-set document, or the document as text

TEXT_LIMITS: dict[str, Text] = {
    "CreateSiteInput.code": column(models.Site, "code"),
    "CreateSiteInput.name": column(models.Site, "name"),
    "CreateLocationInput.siteCode": column(models.Site, "code"),
    "CreateLocationInput.code": column(models.Location, "code"),
    "CreateItemInput.code": column(models.Item, "code"),
    "CreateItemInput.name": column(models.Item, "name"),
    "CreateItemInput.baseUom": column(models.Item, "base_uom"),
    "CreateUomConversionInput.itemCode": column(models.Item, "code"),
    "CreateUomConversionInput.fromUom": column(models.UomConversion, "from_uom"),
    "CreateUomConversionInput.toUom": column(models.UomConversion, "to_uom"),
    "CreateUomConversionInput.densitySource": NOTE,
    "CreateUomConversionInput.temperatureNote": NOTE,
    "BomAlternateInput.componentCode": column(models.Item, "code"),
    "BomLineInput.componentCode": column(models.Item, "code"),
    "BomLineInput.uom": column(models.BomLine, "uom"),
    "BomLineInput.scrapSource": NOTE,
    "CreateBomInput.itemCode": column(models.Item, "code"),
    "SignatureInput.meaning": column(models.ESignature, "meaning"),
    "SignatureInput.password": PASSWORD,
    "LotConversionInput.fromUom": column(models.UomConversion, "from_uom"),
    "LotConversionInput.toUom": column(models.UomConversion, "to_uom"),
    "ReceiveGoodsInput.itemCode": column(models.Item, "code"),
    "ReceiveGoodsInput.lotNumber": column(models.Lot, "lot_number"),
    "ReceiveGoodsInput.uom": column(models.LedgerEntry, "line_uom"),
    "ReceiveGoodsInput.supplier": column(models.Lot, "supplier"),
    "ReceiveGoodsInput.serials": column(models.Serial, "serial"),
    "ReceiveGoodsInput.deviceId": column(models.LedgerEntry, "device_id"),
    "SetLotStatusInput.reason": REASON,
    "OperationInput.name": column(models.WorkOrderOperation, "name"),
    "OperationInput.workCenter": column(models.WorkOrderOperation, "work_center"),
    "CreateWorkOrderInput.number": column(models.WorkOrder, "number"),
    "CreateWorkOrderInput.itemCode": column(models.Item, "code"),
    "CreateWorkOrderInput.siteCode": column(models.Site, "code"),
    "ReleaseWorkOrderInput.outputLotNumber": column(models.Lot, "lot_number"),
    "StageLotInput.scannedLotNumber": column(models.Lot, "lot_number"),
    "StageLotInput.deviceId": column(models.LedgerEntry, "device_id"),
    "SerialScanInput.serial": column(models.Serial, "serial"),
    "PostTriggerInput.idempotencyKey": column(models.Trigger, "idempotency_key"),
    "PostTriggerInput.deviceId": column(models.Trigger, "device_id"),
    "PostTriggerInput.handlingUnit": column(models.Trigger, "handling_unit"),
    "DiscardTriggerInput.reasonCode": column(models.Trigger, "discard_reason_code"),
    "ScanIssueInput.uom": column(models.LedgerEntry, "line_uom"),
    "ScanIssueInput.scannedLotNumber": column(models.Lot, "lot_number"),
    "ScanIssueInput.deviceId": column(models.LedgerEntry, "device_id"),
    "RuleSetDraftInput.name": column(models.RuleSet, "name"),
    "RuleSetDraftInput.siteCode": column(models.Site, "code"),
    "CloseDeviationInput.rootCause": Text(4000, multiline=True),  # as the service allows
    "CreateLabelVersionInput.content": column(models.LabelVersion, "content", multiline=True),
    "OpenNcmrInput.description": column(models.Ncmr, "description", multiline=True),
    "DispositionNcmrInput.reason": REASON,
    "CloseDeviationInput.capaReference": column(models.Deviation, "capa_reference"),
    "RequestReversalInput.reasonCode": column(models.Reversal, "reason_code"),
    "RequestReversalInput.comment": NOTE,
    "RejectReversalInput.reason": REASON,
    "ReturnToStockInput.reasonCode": column(models.LedgerEntry, "reason_code"),
    "ReturnToStockInput.scannedLotNumber": column(models.Lot, "lot_number"),
    "ReturnToStockInput.deviceId": column(models.LedgerEntry, "device_id"),
    "ResidualInput.reasonCode": column(models.LedgerEntry, "reason_code"),
    "ResidualInput.scannedLotNumber": column(models.Lot, "lot_number"),
}

# Arguments of root fields that are not input objects (`workOrder(number:)`, `after` cursors, ...).
ARGUMENT_TEXT = Text(200)


def text_limit(owner: str, field: str) -> Text:
    """The limit of `owner.field` (GraphQL names); a root field's own arguments share ARGUMENT_TEXT."""
    return TEXT_LIMITS.get(f"{owner}.{field}", ARGUMENT_TEXT)
