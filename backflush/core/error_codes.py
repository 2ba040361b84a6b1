"""Every error code a client can see, spelled once with what it means.

Codes are part of the contract: clients branch on them, so a code is never renamed (wire compatibility)
and each one is listed here. docs/errors.md is printed from this table
(`python -m backflush.core.error_codes docs/errors.md`); tests fail when a raised code is missing here or the
page drifts. Standard library only, so the pure core may raise these codes too.
"""
from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

REQUEST, INPUT, BLOCK = "REQUEST", "INPUT", "BLOCK"
SECTIONS = {
    REQUEST: 'GraphQL errors (`errors[].extensions.code`) and HTTP refusals',
    INPUT: 'userErrors: the request was refused and nothing was written',
    BLOCK: 'block reasons (`Trigger.blockReasons[].code`): the trigger is stored BLOCKED and posts nothing',
}


class ErrorCode(StrEnum):
    """A stable code; `kind` says where a client meets it, `meaning` what it means."""

    kind: str
    meaning: str

    def __new__(cls, value: str, kind: str, meaning: str) -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.kind, member.meaning = kind, meaning
        return member

    # GraphQL errors (`errors[].extensions.code`) and HTTP refusals
    UNAUTHENTICATED = 'UNAUTHENTICATED', REQUEST, 'no valid bearer token (HTTP 401 with `WWW-Authenticate: Bearer`)'
    FORBIDDEN = 'FORBIDDEN', REQUEST, 'the token lacks the scope or site the field needs'
    TOO_MANY_ALIASES = 'TOO_MANY_ALIASES', REQUEST, 'more aliases in one document than `BACKFLUSH_MAX_ALIASES`'
    TOO_MANY_TOKENS = 'TOO_MANY_TOKENS', REQUEST, 'more lexical tokens in one document than `BACKFLUSH_MAX_TOKENS`'
    QUERY_TOO_DEEP = 'QUERY_TOO_DEEP', REQUEST, 'deeper than `BACKFLUSH_MAX_QUERY_DEPTH`'
    QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX', REQUEST, 'over the cost budget `BACKFLUSH_MAX_QUERY_COST`'
    QUERY_TIMEOUT = (
        'QUERY_TIMEOUT', REQUEST,
        'a query ran longer than `BACKFLUSH_QUERY_TIMEOUT` seconds and was stopped')
    REQUEST_TOO_LARGE = 'REQUEST_TOO_LARGE', REQUEST, 'the body is over `BACKFLUSH_MAX_BODY_BYTES` (HTTP 413)'
    BAD_USER_INPUT = (
        'BAD_USER_INPUT', REQUEST,
        'an argument of a field without userErrors is refused at the door; `extensions.inputCode` says why')
    RATE_LIMITED = (
        'RATE_LIMITED', REQUEST,
        'over `BACKFLUSH_RATE_LIMIT` for this token subject (HTTP 429 with `Retry-After`)')
    # userErrors: the request was refused and nothing was written
    NOT_FOUND = (
        'NOT_FOUND', INPUT,
        "no such record in the sites the caller may see (another site's record looks the same)")
    REQUIRED = 'REQUIRED', INPUT, 'a required field is missing or blank'
    TOO_LONG = 'TOO_LONG', INPUT, 'a text field is longer than its limit'
    INVALID_TEXT = 'INVALID_TEXT', INPUT, 'a text field that is not a string'
    CONTROL_CHARACTER = 'CONTROL_CHARACTER', INPUT, 'a text field holds a control character'
    TOO_DEEP = 'TOO_DEEP', INPUT, 'a JSON argument nested deeper than the door allows'
    INVALID_CHOICE = 'INVALID_CHOICE', INPUT, "a value outside the field's closed list"
    INVALID_DECIMAL = 'INVALID_DECIMAL', INPUT, 'not a decimal in the wire grammar (digits, optional sign and point)'
    DECIMAL_OUT_OF_RANGE = 'DECIMAL_OUT_OF_RANGE', INPUT, 'more digits than any quantity, factor or cost carries'
    INVALID_DATE = 'INVALID_DATE', INPUT, 'not a calendar date (YYYY-MM-DD)'
    INVALID_DATETIME = 'INVALID_DATETIME', INPUT, 'not an ISO 8601 date and time'
    TIMEZONE_REQUIRED = 'TIMEZONE_REQUIRED', INPUT, 'a date and time without a UTC offset names no instant'
    DATETIME_OUT_OF_RANGE = 'DATETIME_OUT_OF_RANGE', INPUT, 'a date and time outside the years the service accepts'
    EXPIRY_OUT_OF_RANGE = 'EXPIRY_OUT_OF_RANGE', INPUT, 'an expiry date outside the window around today'
    QUANTITY_NEGATIVE = 'QUANTITY_NEGATIVE', INPUT, 'a quantity below zero'
    QUANTITY_NOT_POSITIVE = 'QUANTITY_NOT_POSITIVE', INPUT, 'a quantity that must be greater than zero is not'
    QUANTITY_PRECISION = 'QUANTITY_PRECISION', INPUT, "more decimals than the item's precision allows"
    INVALID_PRECISION = 'INVALID_PRECISION', INPUT, 'an item precision outside 0 to 9 decimal places'
    INVALID_SHELF_LIFE = 'INVALID_SHELF_LIFE', INPUT, 'shelf life that is not a positive number of days'
    INVALID_YIELD = 'INVALID_YIELD', INPUT, "a BOM line's yield above 100 %"
    DUPLICATE_CODE = 'DUPLICATE_CODE', INPUT, 'a site, location or item code that exists already'
    DUPLICATE_NUMBER = 'DUPLICATE_NUMBER', INPUT, 'a work order number that exists already'
    DUPLICATE_LOT = 'DUPLICATE_LOT', INPUT, 'a lot number that exists already for the item'
    DUPLICATE_SERIAL = 'DUPLICATE_SERIAL', INPUT, 'serial numbers received before'
    DUPLICATE_LINE_NO = 'DUPLICATE_LINE_NO', INPUT, 'a BOM line number given twice'
    DUPLICATE_OPERATION = 'DUPLICATE_OPERATION', INPUT, 'an operation sequence number given twice'
    SERIAL_COUNT_MISMATCH = (
        'SERIAL_COUNT_MISMATCH', INPUT,
        'a serialized receipt lists not one distinct serial per unit')
    NOT_SERIALIZED = 'NOT_SERIALIZED', INPUT, 'serials given for an item, or a trigger line, that is not serialized'
    TOO_MANY_SERIALS = 'TOO_MANY_SERIALS', INPUT, 'more serial scans for a line than the units it posts'
    LOCATION_NOT_RECEIVABLE = 'LOCATION_NOT_RECEIVABLE', INPUT, 'goods are received into a STOCK bin only'
    LOT_AT_OTHER_SITE = 'LOT_AT_OTHER_SITE', INPUT, 'the lot belongs to another site'
    LABEL_NOT_DRAFT = 'LABEL_NOT_DRAFT', INPUT, 'only a DRAFT label version can be approved'
    LOT_UNDER_NCMR = 'LOT_UNDER_NCMR', INPUT, 'the lot has an open NCMR: it cannot be used or re-statused until QA dispositions it'
    NCMR_ALREADY_OPEN = 'NCMR_ALREADY_OPEN', INPUT, 'the lot already has an open NCMR'
    NCMR_NOT_OPEN = 'NCMR_NOT_OPEN', INPUT, 'the NCMR is already dispositioned'
    LOCATION_AT_OTHER_SITE = 'LOCATION_AT_OTHER_SITE', INPUT, 'the location belongs to another site'
    SITE_CODE_RESERVED = 'SITE_CODE_RESERVED', INPUT, 'the site code is reserved (*, ALL, GLOBAL, …): grants read it as every site or none'
    SITE_CODE_INVALID = 'SITE_CODE_INVALID', INPUT, "a site code is 1 to 40 upper-case letters and digits, with '-', '_' or '.' between them"
    WRONG_LOCATION_KIND = 'WRONG_LOCATION_KIND', INPUT, 'residuals return to a STOCK bin (or QUARANTINE when exposed)'
    NOT_A_STAGING_LOCATION = (
        'NOT_A_STAGING_LOCATION', INPUT,
        "stage to the work order's WIP location or an operation's input location")
    SAME_LOCATION = 'SAME_LOCATION', INPUT, 'the lot is already at the staging location'
    INSUFFICIENT_STOCK = 'INSUFFICIENT_STOCK', INPUT, 'a move asks for more than is on hand'
    LOT_SCAN_MISMATCH = 'LOT_SCAN_MISMATCH', INPUT, 'the scanned lot number does not match the lot'
    LOT_NOT_STAGED = 'LOT_NOT_STAGED', INPUT, 'nothing of the lot remains staged to the work order'
    NO_QUARANTINE_LOCATION = (
        'NO_QUARANTINE_LOCATION', INPUT,
        'the site has no QUARANTINE location for an exposed return')
    BOM_WITHOUT_LINES = 'BOM_WITHOUT_LINES', INPUT, 'a BOM needs at least one line'
    BOM_CYCLE = 'BOM_CYCLE', INPUT, 'a BOM line consumes the item the BOM makes'
    BOM_NOT_APPROVED = 'BOM_NOT_APPROVED', INPUT, 'the item has only a draft BOM; a draft cannot drive production'
    NO_EFFECTIVE_BOM = 'NO_EFFECTIVE_BOM', INPUT, 'the item has no approved BOM in force'
    MISSING_UOM_CONVERSION = (
        'MISSING_UOM_CONVERSION', INPUT,
        "a BOM line's unit has no approved conversion to the component's base unit")
    POTENCY_REQUIRES_SCAN_ISSUE = (
        'POTENCY_REQUIRES_SCAN_ISSUE', INPUT,
        'a variable-potency component must be SCAN_ISSUE')
    SCRAP_SOURCE_REQUIRED = (
        'SCRAP_SOURCE_REQUIRED', INPUT,
        'scrap or yield differs from neutral, so the line must say where its scrap comes from')
    PHANTOM_WITHOUT_BOM = 'PHANTOM_WITHOUT_BOM', INPUT, 'a phantom component has no approved BOM'
    PHANTOM_TOO_DEEP = 'PHANTOM_TOO_DEEP', INPUT, 'phantoms nest deeper than `MAX_PHANTOM_DEPTH` (also a block reason)'
    RECORD_IMMUTABLE = 'RECORD_IMMUTABLE', INPUT, 'approved records are never edited: create a new version'
    ROLE_REQUIRED = 'ROLE_REQUIRED', INPUT, 'the approval is signed by another role'
    OPERATIONS_REQUIRED = 'OPERATIONS_REQUIRED', INPUT, 'a work order has at least one operation'
    WORK_ORDER_NOT_CREATED = 'WORK_ORDER_NOT_CREATED', INPUT, 'only a CREATED work order can be released'
    WORK_ORDER_NOT_OPEN = 'WORK_ORDER_NOT_OPEN', INPUT, 'the work order is not RELEASED or IN_PROGRESS'
    NOTHING_REPORTED = 'NOTHING_REPORTED', INPUT, 'a trigger reports neither good nor scrap units'
    WRONG_OPERATION = 'WRONG_OPERATION', INPUT, 'the operation is not on this work order'
    OVER_PRODUCTION = (
        'OVER_PRODUCTION', INPUT,
        'cumulative good units would exceed the order plus its over-production tolerance')
    IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED', INPUT, 'the idempotency key was used for a different trigger'
    TRIGGER_NOT_BLOCKED = 'TRIGGER_NOT_BLOCKED', INPUT, 'only a BLOCKED trigger can be retried or discarded'
    TRIGGER_NOT_POSTED = 'TRIGGER_NOT_POSTED', INPUT, 'only a POSTED trigger can be reversed'
    ALREADY_REVERSED = 'ALREADY_REVERSED', INPUT, 'the trigger has been reversed already'
    REVERSAL_PENDING = 'REVERSAL_PENDING', INPUT, 'a reversal of this trigger already awaits signatures'
    REVERSAL_NOT_PENDING = 'REVERSAL_NOT_PENDING', INPUT, 'the reversal is no longer awaiting signatures'
    OUTPUT_ALREADY_CONSUMED = (
        'OUTPUT_ALREADY_CONSUMED', INPUT,
        "the trigger's output was used or moved downstream; it cannot be taken back")
    ROLE_NOT_ALLOWED = 'ROLE_NOT_ALLOWED', INPUT, 'only the requester or a permitted signer may reject a reversal'
    SIGNER_ALREADY_SIGNED = 'SIGNER_ALREADY_SIGNED', INPUT, 'signers of one reversal must be distinct people'
    SIGNER_ROLE_NOT_ALLOWED = 'SIGNER_ROLE_NOT_ALLOWED', INPUT, 'the reversal still needs a signature by another role'
    PENDING_BLOCKED_TRIGGERS = (
        'PENDING_BLOCKED_TRIGGERS', INPUT,
        'blocked triggers must be retried or discarded before the order closes')
    PENDING_REVERSALS = 'PENDING_REVERSALS', INPUT, 'reversals await signatures before the order closes'
    RESIDUALS_UNRESOLVED = (
        'RESIDUALS_UNRESOLVED', INPUT,
        'staged residuals must be returned or scrapped before the order closes')
    UNKNOWN_LINE = 'UNKNOWN_LINE', INPUT, 'the BOM has no such line'
    NOT_A_SCAN_ISSUE_LINE = 'NOT_A_SCAN_ISSUE_LINE', INPUT, 'the line is not issued by scan'
    LOT_NOT_FOR_LINE = 'LOT_NOT_FOR_LINE', INPUT, "the lot's item is neither the line's component nor an alternate"
    UOM_NOT_BASE = 'UOM_NOT_BASE', INPUT, "a scan issue is weighed in the item's base unit"
    LOT_EXCLUDED = 'LOT_EXCLUDED', INPUT, "QA's ELIGIBILITY rules exclude the lot"
    STATUS_UNCHANGED = 'STATUS_UNCHANGED', INPUT, 'the lot already has that status'
    TRANSITION_NOT_ALLOWED = 'TRANSITION_NOT_ALLOWED', INPUT, 'a lot never makes that status change'
    PERSON_REQUIRED = 'PERSON_REQUIRED', INPUT, "that status change is a person's decision, not a machine client's"
    SIGNATURE_REQUIRED = 'SIGNATURE_REQUIRED', INPUT, 'the action needs an e-signature'
    SIGNATURE_INVALID = 'SIGNATURE_INVALID', INPUT, 're-authentication for a signature failed'
    SIGNATURE_LOCKED = 'SIGNATURE_LOCKED', INPUT, 'signing is locked after repeated failures'
    SIGNATURE_MEANING_REQUIRED = 'SIGNATURE_MEANING_REQUIRED', INPUT, 'a signature states its meaning'
    SIGNATURE_MEANING_MISMATCH = (
        'SIGNATURE_MEANING_MISMATCH', INPUT,
        "the signature's meaning is not the one the action is signed with")
    SIGNATURE_NOT_ALLOWED = 'SIGNATURE_NOT_ALLOWED', INPUT, 'machine clients cannot sign'
    SIGNATURE_REAUTH_REQUIRED = (
        'SIGNATURE_REAUTH_REQUIRED', INPUT,
        'sign in again at the identity provider (within 5 minutes) to sign')
    DEVIATION_CLOSED = 'DEVIATION_CLOSED', INPUT, 'the deviation is closed already'
    DOCUMENT_SYNTAX = 'DOCUMENT_SYNTAX', INPUT, 'a rule set document is not an object with rules and tests'
    RULE_SET_INVALID = 'RULE_SET_INVALID', INPUT, 'the rule set draft does not validate or its tests fail'
    RULE_SET_KIND_MISMATCH = 'RULE_SET_KIND_MISMATCH', INPUT, 'the rule set is of another kind'
    USERNAME_TAKEN = 'USERNAME_TAKEN', INPUT, 'the user name exists already (identity administration)'
    CLIENT_ID_TAKEN = 'CLIENT_ID_TAKEN', INPUT, 'the client id exists already (identity administration)'
    UNKNOWN_ROLE = 'UNKNOWN_ROLE', INPUT, 'a role outside the closed list'
    UNKNOWN_SCOPE = 'UNKNOWN_SCOPE', INPUT, 'a scope outside the closed list'
    UNKNOWN_GRANT_TYPE = 'UNKNOWN_GRANT_TYPE', INPUT, 'a grant type outside the closed list'
    DISPLAY_NAME_REQUIRED = 'DISPLAY_NAME_REQUIRED', INPUT, 'signatures print the display name, so a person needs one'
    PASSWORD_TOO_SHORT = 'PASSWORD_TOO_SHORT', INPUT, 'the password is shorter than the minimum'
    PUBLIC_CLIENT_CREDENTIALS = (
        'PUBLIC_CLIENT_CREDENTIALS', INPUT,
        'a client without a secret cannot use client_credentials')
    REDIRECT_URI_REQUIRED = 'REDIRECT_URI_REQUIRED', INPUT, 'authorization_code needs a registered redirect URI'
    SCOPE_NOT_FOR_CLIENTS = 'SCOPE_NOT_FOR_CLIENTS', INPUT, 'machine clients can never hold the signing scope'
    REASON_REQUIRED = 'REASON_REQUIRED', INPUT, 'say why access changes (Annex 11 §12.3)'
    USER_NOT_FOUND = 'USER_NOT_FOUND', INPUT, 'no such user'
    USER_ALREADY_ACTIVE = 'USER_ALREADY_ACTIVE', INPUT, 'the user is active already'
    USER_ALREADY_INACTIVE = 'USER_ALREADY_INACTIVE', INPUT, 'the user is deactivated already'
    USER_NOT_LOCKED = 'USER_NOT_LOCKED', INPUT, 'the user is not locked'
    # block reasons (`Trigger.blockReasons[].code`): the trigger is stored BLOCKED and posts nothing
    INSUFFICIENT_STAGED_STOCK = (
        'INSUFFICIENT_STAGED_STOCK', BLOCK,
        'less eligible stock is staged than the line needs (also refuses a return of more than is staged)')
    BIN_MISMATCH = 'BIN_MISMATCH', BLOCK, "enough is staged, but not at the operation's input location"
    LOT_EXPIRED = (
        'LOT_EXPIRED', BLOCK,
        'only expired lots are staged for the line (also refuses a scan issue; an ELIGIBILITY exclusion code)')
    LOT_NOT_RELEASED = (
        'LOT_NOT_RELEASED', BLOCK,
        'only unreleased lots are staged for the line (also refuses a scan issue; an ELIGIBILITY exclusion code)')
    SERIAL_SCAN_REQUIRED = 'SERIAL_SCAN_REQUIRED', BLOCK, 'a serialized line needs one matching serial scan per unit'
    CLOCK_SKEW = 'CLOCK_SKEW', BLOCK, 'the device clock was off server time by more than the limit when it reported'
    LABEL_NOT_APPROVED = 'LABEL_NOT_APPROVED', BLOCK, 'no label approval, no packout: the order has no QA-approved label version'
    OPERATION_AHEAD = (
        'OPERATION_AHEAD', BLOCK,
        'an operation would run ahead of its predecessor beyond the over-production allowance')
    MASTER_DATA = 'MASTER_DATA', BLOCK, 'master data the plan needs is broken'
    MISSING_CONVERSION = (
        'MISSING_CONVERSION', BLOCK,
        "no conversion in force between the line's unit and the component's base unit")
    PHANTOM_CYCLE = 'PHANTOM_CYCLE', BLOCK, 'phantoms explode into themselves'
    PHANTOM_BOM_MISSING = 'PHANTOM_BOM_MISSING', BLOCK, 'a phantom has no BOM in force at posting time'
    UNKNOWN_ALTERNATE = 'UNKNOWN_ALTERNATE', BLOCK, 'an alternate names an item that is not on the line'


def render() -> str:
    """docs/errors.md, section by section, codes in the order they are declared."""
    parts = ["# Error codes", "",
             "Generated from `backflush/core/error_codes.py` by `python -m backflush.core.error_codes docs/errors.md`; "
             "do not edit by hand. Codes are stable: clients may branch on them. QA's rule sets may add their "
             "own block and exclusion codes (`[A-Z][A-Z0-9_]*`, see docs/rules.md)."]
    for kind, title in SECTIONS.items():
        parts += ["", f"## {title}", "", "| code | meaning |", "|---|---|"]
        parts += [f"| `{code}` | {code.meaning} |" for code in ErrorCode if code.kind == kind]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":  # python -m backflush.core.error_codes docs/errors.md
    Path(sys.argv[1]).write_text(render(), encoding="utf-8")
