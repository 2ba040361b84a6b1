"""Who may read what: every field of every object type, by scope, and the site each object belongs to.

This table is the one place read access is decided below the root fields. `api/walls.py` enforces it
where data is resolved, so `node(id:)`, nested fields, connections and genealogy edges obey the same
rules as the root fields; `docs/access.md` is printed from it (`python3 dev.py access-doc`, checked by a
test); the schema build refuses a type or field it does not list.

A field is granted to a caller holding any one of its scopes ("admin" holds them all). A root field's
own guard (`api/permissions.py`) decides first; these rules decide every field below it.
"""
from __future__ import annotations

from auth.scopes import (
    AUDIT_READ,
    GENEALOGY_READ,
    INVENTORY_WRITE,
    MASTERDATA_WRITE,
    PRODUCTION_READ,
    PRODUCTION_WRITE,
    REPORTS_READ,
    RULES_READ,
    RULES_WRITE,
    SIGNATURES_SIGN,
    TRIGGERS_WRITE,
)

# Everyone who works in the plant: readers of production data, and writers reading back what they wrote.
PLANT = frozenset({PRODUCTION_READ, TRIGGERS_WRITE, INVENTORY_WRITE, PRODUCTION_WRITE, MASTERDATA_WRITE,
                   SIGNATURES_SIGN, RULES_WRITE})
# The partner view (genealogy:read): lots, item codes and names, quantities and dates along the tree.
GENEALOGY = PLANT | {GENEALOGY_READ}
RULES = frozenset({RULES_READ, RULES_WRITE})
DEVIATIONS = PLANT | {REPORTS_READ}  # the `deviations` root field admits report readers
AUDIT = frozenset({AUDIT_READ})
REPORTS = frozenset({REPORTS_READ})
# Types that carry no data of their own (payloads, pages, edges, user errors): the root field decided.
STRUCTURE: frozenset[str] = frozenset()

GRANT_NAMES = {PLANT: "PLANT", GENEALOGY: "GENEALOGY", RULES: "RULES", DEVIATIONS: "DEVIATIONS", AUDIT: "AUDIT",
               REPORTS: "REPORTS", STRUCTURE: "STRUCTURE"}

# type -> {grant: "field field …"}; every field of every object type appears exactly once.
ACCESS: dict[str, dict[frozenset, str]] = {
    # the genealogy tree and what a partner sees of it
    "GenealogyTree": {GENEALOGY: "direction edges truncated root lots"},
    "GenealogyEdge": {GENEALOGY: "quantity uom level reversed from to", PLANT: "workOrder postings"},
    "Lot": {GENEALOGY: "id lotNumber expiresOn receivedAt item", PLANT: "status supplier potency balances"},
    "Item": {GENEALOGY: "id code name",
             PLANT: "baseUom precision rounding lotControlled serialized variablePotency phantom shelfLifeDays "
                    "standardCost"},
    # master data
    "Site": {PLANT: "id code name"},
    "Location": {PLANT: "id code kind site"},
    "UomConversion": {PLANT: "id fromUom toUom factor version status item"},
    "Bom": {PLANT: "id version status baseQuantity effectiveFrom rework item lines signatures"},
    "BomLine": {PLANT: "lineNo quantity uom scrapPercent setupScrap yieldPercent scrapSource operationSeq "
                       "postingMethod component alternates"},
    "BomAlternate": {PLANT: "ratio priority component"},
    "ESignature": {PLANT: "signerName meaning signedAt recordHash"},
    # inventory and production
    "Balance": {PLANT: "lot location quantity uom"},
    "StagedLot": {PLANT: "lot location stagedQuantity remainingQuantity stagedAt"},
    "WorkOrder": {PLANT: "id number quantity overproductionTolerancePercent status rework item site bom outputLot "
                         "operations stagedLots triggers flushPostings variances"},
    "WorkOrderOperation": {PLANT: "seq name workCenter inputLocation goodQuantity scrapQuantity"},
    "ComponentVariance": {PLANT: "standardQuantity actualQuantity usageVariance yieldVariance mixVariance "
                                 "residualVariance variancePercent usageVarianceCost uom component substitutesFor"},
    "Trigger": {PLANT: "id idempotencyKey kind operationSeq goodQuantity scrapQuantity deviceId deviceTimestamp "
                       "clockSkewSeconds handlingUnit receivedAt postedAt outcome reversed workOrder blockReasons "
                       "postings decisions deviation ageSeconds attempts blockedSince"},
    "TriggerAttempt": {PLANT: "number evaluatedAt outcome blockReasons"},
    "BlockReason": {PLANT: "code message required eligible lineNo uom component"},
    "FlushPosting": {PLANT: "id lineNo quantity uom method postedAt lineQuantity lineUom conversionFactor trigger "
                            "workOrder component substitutesFor lot location reversed"},
    "TriggerPreview": {PLANT: "outcome draws blockReasons userErrors"},
    "PlannedDraw": {PLANT: "lot location lineNo quantity uom component substitutesFor"},
    "Reversal": {PLANT: "id reasonCode comment status requestedAt executedAt rejectedReason trigger required "
                        "signatures"},
    "SignatureRequirement": {PLANT: "count roles meaning"},
    # rules and deviations
    "RuleDecision": {PLANT: "version fired inputHash engine", RULES: "ruleSet"},
    "FiredRule": {PLANT: "ruleId action params"},
    "RuleSet": {RULES: "id name kind version status document effectiveFrom signatures"},
    "RuleValidation": {RULES: "valid errors tests"},
    "RuleTestResult": {RULES: "name passed message"},
    "SimulationResult": {RULES: "evaluated changed details userErrors"},
    "Deviation": {DEVIATIONS: "id number category severity status reasonCode occurrences openedAt closedAt "
                              "rootCause capaReference", PLANT: "workOrder"},
    # audit and reports
    "AuditRecord": {AUDIT: "seq siteCode chainSeq at actor deviceId deviceTime action entityType entityId hash "
                           "prevHash before after reason requestId"},
    "AuditVerification": {AUDIT: "ok checked firstBrokenSeq breaks breakCount chains checkpointsChecked "
                                 "checkpointsVerifiable"},
    "AuditBreak": {AUDIT: "kind siteCode chainSeq seq detail"},
    "BackflushMetrics": {REPORTS: "triggers blocked reversed exceptionRate meanTimeToCorrectionSeconds "
                                  "genealogyCompleteness returnToStockCompliance usageVarianceByWorkCenter"},
    "WorkCenterVariance": {REPORTS: "workCenter component standardQuantity actualQuantity usageVariance "
                                    "variancePercent"},
    "ControlSignal": {REPORTS: "item workOrder usagePerUnit mean sigma lowerLimit upperLimit sampleSize"},
    "SupplierVariance": {REPORTS: "supplier item lots standardQuantity actualQuantity usageVariance variancePercent"},
    # the evidence pack is the auditor's; what it nests keeps its own grants
    "EvidencePack": {AUDIT: "workOrder bom conversions labels triggers decisions genealogy reversals deviations "
                            "variances auditTrail auditVerification htmlUrl jsonUrl sha256 genealogySvgUrl"},
    # quality records: labels and nonconformances
    "LabelVersion": {PLANT: "id version status content approvedAt signatures"},
    "Ncmr": {PLANT: "id number status description disposition openedAt dispositionedAt lot signatures"},
    # structure
    "PageInfo": {STRUCTURE: "hasNextPage hasPreviousPage startCursor endCursor"},
    "WorkOrderConnection": {STRUCTURE: "edges pageInfo"}, "WorkOrderEdge": {STRUCTURE: "node cursor"},
    "TriggerConnection": {STRUCTURE: "edges pageInfo"}, "TriggerEdge": {STRUCTURE: "node cursor"},
    "FlushPostingConnection": {STRUCTURE: "edges pageInfo"}, "FlushPostingEdge": {STRUCTURE: "node cursor"},
    "ItemConnection": {STRUCTURE: "edges pageInfo"}, "ItemEdge": {STRUCTURE: "node cursor"},
    "LotConnection": {STRUCTURE: "edges pageInfo"}, "LotEdge": {STRUCTURE: "node cursor"},
    "UserError": {STRUCTURE: "field message code"},
    "SitePayload": {STRUCTURE: "site userErrors"}, "LocationPayload": {STRUCTURE: "location userErrors"},
    "ItemPayload": {STRUCTURE: "item userErrors"}, "UomConversionPayload": {STRUCTURE: "conversion userErrors"},
    "BomPayload": {STRUCTURE: "bom userErrors"}, "LotPayload": {STRUCTURE: "lot userErrors"},
    "WorkOrderPayload": {STRUCTURE: "workOrder userErrors"}, "StagePayload": {STRUCTURE: "stagedLot userErrors"},
    "TriggerPayload": {STRUCTURE: "trigger replayed userErrors"}, "PostingPayload": {STRUCTURE: "posting userErrors"},
    "RuleSetPayload": {STRUCTURE: "ruleSet validation userErrors"},
    "DeviationPayload": {STRUCTURE: "deviation userErrors"}, "ReversalPayload": {STRUCTURE: "reversal userErrors"},
    "LabelVersionPayload": {STRUCTURE: "labelVersion userErrors"}, "NcmrPayload": {STRUCTURE: "ncmr userErrors"},
}

# The attribute of a resolved object that names its site (a site's own pk for a Site); None on a
# RuleSet means a global rule set, visible to every site. Every other type is global master data
# (items, BOMs, conversions) or reached only through an object listed here.
SITE_OF: dict[str, str] = {
    "Site": "pk", "Location": "site_pk", "Lot": "site_pk", "WorkOrder": "site_pk", "Trigger": "site_pk",
    "FlushPosting": "site_pk", "Deviation": "site_pk", "Reversal": "site_pk", "RuleSet": "site_pk",
}


def field_grants() -> dict[tuple[str, str], frozenset[str]]:
    """(type, field) -> the scopes that grant it; an empty set: no check below the root field's guard."""
    grants = {}
    for type_name, groups in ACCESS.items():
        for grant, fields in groups.items():
            for field in fields.split():
                if (type_name, field) in grants:
                    raise RuntimeError(f"{type_name}.{field} is listed twice in api/access.py")
                grants[(type_name, field)] = grant
    return grants


def grant_name(grant: frozenset[str]) -> str:
    return GRANT_NAMES[grant]


def may_read(scopes: frozenset[str], grant: frozenset[str]) -> bool:
    """The same decision `Principal.has_scope` makes, on a bare set of scopes."""
    return not grant or "admin" in scopes or bool(scopes & grant)
