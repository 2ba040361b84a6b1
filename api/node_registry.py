"""Which GraphQL type and table each global-ID type name stands for, and its audit entity name."""
from __future__ import annotations

import models
from api.types import inventory, masterdata, work_orders

NODE_TYPES = {
    "Site": (models.Site, masterdata.Site),
    "Location": (models.Location, masterdata.Location),
    "Item": (models.Item, masterdata.Item),
    "UomConversion": (models.UomConversion, masterdata.UomConversion),
    "Bom": (models.Bom, masterdata.Bom),
    "Lot": (models.Lot, inventory.Lot),
    "WorkOrder": (models.WorkOrder, work_orders.WorkOrder),
}

AUDIT_ENTITY = {
    "Site": "site", "Location": "location", "Item": "item", "UomConversion": "uom_conversion", "Bom": "bom",
    "Lot": "lot", "WorkOrder": "work_order", "Trigger": "trigger", "Reversal": "reversal",
    "Deviation": "deviation", "RuleSet": "rule_set",
}


def register(type_name: str, model, graphql_type) -> None:
    """Later modules (triggers, rules, deviations) add their node types here."""
    NODE_TYPES[type_name] = (model, graphql_type)
