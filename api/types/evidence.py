"""The evidence pack on the wire: the existing types of each record, plus the page and picture URLs."""
from __future__ import annotations

import strawberry

from api import ids
from api.evidence_routes import evidence_urls
from api.types.audit import AuditRecord, AuditVerification
from api.types.exceptions import Reversal
from api.types.genealogy import GenealogyTree
from api.types.governance import RuleDecision
from api.types.masterdata import Bom, UomConversion
from api.types.production import ComponentVariance, Deviation, Trigger, WorkOrder
from api.types.quality import LabelVersion
from backflush.insight.evidence import EvidencePack as Pack
from backflush.insight.evidence_document import document_sha256, evidence_document
from models.stored import stored_id


@strawberry.type
class EvidencePack:
    work_order: WorkOrder
    bom: Bom = strawberry.field(description="The BOM the order was bound to, with its approval signatures")
    conversions: list[UomConversion]
    labels: list[LabelVersion]
    triggers: list[Trigger]
    decisions: list[RuleDecision] = strawberry.field(description="The rule-set decisions behind every trigger and "
                                                                 "reversal")
    genealogy: GenealogyTree
    reversals: list[Reversal]
    deviations: list[Deviation]
    variances: list[ComponentVariance]
    audit_trail: list[AuditRecord]
    audit_verification: AuditVerification
    html_url: str = strawberry.field(description="Printable page of this pack (same authorization as the API)")
    json_url: str = strawberry.field(description="The pack as one JSON document, its canonical form byte for byte")
    sha256: str = strawberry.field(description="SHA-256 of the JSON document's canonical form, for archiving")
    genealogy_svg_url: str = strawberry.field(description="The genealogy tree of the output lot as an SVG picture")

    @classmethod
    def from_pack(cls, pack: Pack, genealogy: GenealogyTree) -> "EvidencePack":
        urls = evidence_urls(ids.encode("WorkOrder", stored_id(pack.work_order)))
        return cls(
            work_order=WorkOrder.from_row(pack.work_order), bom=Bom.from_row(pack.bom),
            conversions=[UomConversion.from_row(c) for c in pack.conversions],
            labels=[LabelVersion.from_row(x) for x in pack.labels], triggers=[Trigger.from_row(t) for t in pack.triggers],
            decisions=[RuleDecision.from_row(d) for d in pack.decisions], genealogy=genealogy,
            reversals=[Reversal.from_row(r) for r in pack.reversals],
            deviations=[Deviation.from_row(d) for d in pack.deviations],
            variances=[ComponentVariance.from_row(v) for v in pack.variances],
            audit_trail=[AuditRecord.from_row(r, pack.site.code) for r in pack.audit_trail],
            audit_verification=AuditVerification.from_result(pack.verification), html_url=urls["html"],
            json_url=urls["json"], sha256=document_sha256(evidence_document(pack)),
            genealogy_svg_url=urls["genealogy_svg"])
