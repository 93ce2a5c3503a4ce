"""What every unit of work must know about its deployment, passed explicitly.

A session is opened from a factory made with a `LedgerContext` (`make_sessionmaker(engine,
context)`); services read it with `context_of(session)`. There is no default: a session made
without one cannot write to the audit log, so a command that forgot its settings fails instead
of silently writing under another log's origin (the `fundtrail demo` bug, docs/architecture.md).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

_KEY = "fundtrail_context"


@dataclass(frozen=True)
class LedgerContext:
    log_origin: str                          # the audit log this unit of work writes to
    refuse_blacklisted_payees: bool = False  # [ledger] refuse_blacklisted_payees (BLK-01)
    # [imports] accept_wrong_check_character (ledger.imports.households, members)
    accept_wrong_check_character: bool = False

    @classmethod
    def from_settings(cls, settings) -> LedgerContext:
        """From `ledger.core.config.Settings` (or anything with the same fields; the import
        setting may be absent)."""
        return cls(log_origin=settings.log_origin,
                   refuse_blacklisted_payees=settings.refuse_blacklisted_payees,
                   accept_wrong_check_character=getattr(
                       settings, "accept_wrong_check_character", False))

    def as_info(self) -> dict:
        """For `sessionmaker(info=…)`: every session of the factory carries this context."""
        return {_KEY: self}


class MissingContext(RuntimeError):
    """A session was opened without a LedgerContext: a programming error, not bad input."""


def context_of(session: Session) -> LedgerContext:
    context = session.info.get(_KEY)
    if context is None:
        raise MissingContext("this session was made without a LedgerContext; open it from "
                             "make_sessionmaker(engine, context)")
    return context


def bind_context(session: Session, context: LedgerContext) -> Session:
    """Give one session another context (verifying or backing up another log)."""
    session.info[_KEY] = context
    return session


def use_log(session: Session, origin: str) -> Session:
    """This session writes to (and verifies) the log `origin`, keeping the rest of its context.
    Verifying another county's log, or backing up a database, names the log outright."""
    current = session.info.get(_KEY)
    return bind_context(session, replace(current, log_origin=origin) if current is not None
                        else LedgerContext(origin))
