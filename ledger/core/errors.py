"""Refusals the core raises. Each is a value: a `code` naming the rule, the `params` that
fill it in, and a message a finance officer can act on.

Callers (the web, the CLI, tests) switch on `code` and read `params`, never the message text:
the message is one rendering of the code, and a translated one may replace it. Every code,
with its parameters and meaning, is listed once in `ledger.core.refusals` (and in
docs/ledger.md, "Refusals"). The CLI maps `LedgerError` to exit status 2; anything else is a
bug and propagates.
"""
from __future__ import annotations

import datetime as dt
import enum


class LedgerError(Exception):
    """A request the ledger refuses: bad input or a rule it would break.

    `code` is the class's unless one is given; `params` are the values the message names, as
    plain JSON values (dates become ISO text, enums their value) so that the web can send
    them and a translation can fill them in without knowing the ledger's types."""

    code: str = "refused"

    def __init__(self, message: str = "", *, code: str | None = None, **params):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.params = {name: plain(value) for name, value in params.items()}

    @property
    def message(self) -> str:
        return str(self)


def plain(value):
    """`value` as JSON holds it: text, integers, booleans, None, lists and maps of those."""
    if isinstance(value, enum.Enum):  # first: str-valued enums are also str
        return plain(value.value)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=str)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


class NotFound(LedgerError):
    """A named thing (account, lot, transfer, region) does not exist."""

    code = "not_found"


class PermissionDenied(LedgerError):
    """The actor's role or region scope does not allow this."""

    code = "out_of_scope"


class InvariantViolation(LedgerError):
    """The request would break one of the ledger invariants (DESIGN.md)."""

    code = "invariant"


class Overdraft(InvariantViolation):
    """An account would pay out more than it holds, counting pending amounts."""

    code = "overdraft"


class LotMismatch(InvariantViolation):
    """A transfer would move money between fund lots outside an integration entry."""

    code = "lot_mismatch"


class PurposeViolation(InvariantViolation):
    """Spending outside the lot's function codes or allowed uses, or on a prohibited use."""

    code = "purpose"


class ClosedPeriod(InvariantViolation):
    """The entry's date falls in a fiscal period that has been closed."""

    code = "closed_period"


class IdempotencyConflict(LedgerError):
    """The same idempotency key was used before with different content."""

    code = "key_reused"


class MakerChecker(InvariantViolation):
    """The recorder of an entry tried to approve it."""

    code = "maker_checker"


class StorageError(LedgerError):
    """The database could not take the change (disk full, locked by another writer, server
    gone). The transaction was rolled back; every command may simply be run again."""

    code = "storage"


class PaymentRefused(LedgerError):
    """A payment the deployment's rules refuse outright (a blacklisted payee, BLK-01)."""

    code = "payment_refused"
