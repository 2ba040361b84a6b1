"""Which GraphQL type and table each global-ID type name stands for, and its audit entity name."""
from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel

import models
from api.types import exceptions, governance, inventory, masterdata, production

# table → its GraphQL type, whose from_row(row) shapes a row of that table
NODE_TYPES: dict[str, tuple[type[SQLModel], Any]] = {
    "Site": (models.Site, masterdata.Site),
    "Location": (models.Location, masterdata.Location),
    "Item": (models.Item, masterdata.Item),
    "UomConversion": (models.UomConversion, masterdata.UomConversion),
    "Bom": (models.Bom, masterdata.Bom),
    "Lot": (models.Lot, inventory.Lot),
    "WorkOrder": (models.WorkOrder, production.WorkOrder),
    "Trigger": (models.Trigger, production.Trigger),
    "FlushPosting": (models.LedgerEntry, production.FlushPosting),
    "Deviation": (models.Deviation, production.Deviation),
    "RuleSet": (models.RuleSet, governance.RuleSet),
    "Reversal": (models.Reversal, exceptions.Reversal),
}

AUDIT_ENTITY = {
    "Site": "site", "Location": "location", "Item": "item", "UomConversion": "uom_conversion", "Bom": "bom",
    "Lot": "lot", "WorkOrder": "work_order", "Trigger": "trigger", "Reversal": "reversal",
    "Deviation": "deviation", "RuleSet": "rule_set",
}
