"""SQLModel tables and constraints only; importing this package registers every table."""
from sqlmodel import SQLModel

from models.governance import AuditCheckpoint, AuditRecord, Deviation, ESignature, RuleDecision, RuleSet
from models.identity import (
    AccountLock,
    AuthorizationCode,
    OAuthClient,
    RefreshToken,
    SignatureFailure,
    SignInFailure,
    SigningKey,
    User,
)
from models.inventory import Balance, LedgerEntry, Lot, Serial, StagedLot
from models.masterdata import Bom, BomAlternate, BomLine, Item, Location, Site, UomConversion
from models.posted_totals import PostedLineTotal, PostedOperationTotal
from models.production import (
    ComponentVariance,
    GenealogyEdge,
    Reversal,
    Trigger,
    TriggerAttempt,
    WorkOrder,
    WorkOrderOperation,
)
from models.quality import LabelVersion, Ncmr

metadata = SQLModel.metadata

__all__ = [
    "AccountLock", "AuditCheckpoint", "AuditRecord", "AuthorizationCode", "Balance", "Bom", "BomAlternate", "BomLine",
    "ComponentVariance",
    "Deviation", "ESignature", "GenealogyEdge", "Item", "LabelVersion", "LedgerEntry", "Location", "Lot", "Ncmr",
    "OAuthClient", "PostedLineTotal", "PostedOperationTotal",
    "RefreshToken", "Reversal", "RuleDecision", "RuleSet", "Serial", "SignatureFailure", "SignInFailure", "SigningKey",
    "Site", "StagedLot", "Trigger", "TriggerAttempt", "UomConversion", "User", "WorkOrder", "WorkOrderOperation", "metadata",
]
