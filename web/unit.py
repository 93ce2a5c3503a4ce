"""The unit of work of a request that changes the ledger, and how a refusal is shown.

`run(call)` is the one place a view's change is committed: the request's session commits when
the service call succeeds; when the ledger refuses (a LedgerError), the session rolls back,
a refused attempt at misuse is recorded for auditors in a transaction of its own
(ledger.funds.refusals_log), and the refusal is shown — beside the form field it concerns,
else above the form, or as a flashed message when there is no form. `preview(call)` runs a
call and always rolls back (an upload's preview shows what would be written, or why not, and
writes nothing of it; a refused attempt at misuse is recorded as `run` records it).

Which field a refusal belongs to is decided by its `code` and `params` (ledger/core/errors.py),
never by its message text: the message is for people and may be translated.

PermissionDenied is never shown here: it reaches the app's 403 page (a refusal of scope must
not look like a form error), as does anything a view names in `propagate` (NotFound → 404).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import flash
from flask_wtf import FlaskForm

from ledger.core.errors import LedgerError, PermissionDenied
from ledger.funds.refusals_log import attempt_of, record_refused
from web import db

# The form field a refusal concerns, by its code, wherever a form has a field of that name.
# A refusal is looked up by its own code, then by its family's (the code its class gives every
# refusal it raises: "purpose" for any PurposeViolation), so a more precise code added in the
# core lands beside the same field until it is given one of its own here. A NotFound belongs
# beside the field named for what was not found: params["what"] (payee, lot, project…).
FIELD_OF_CODE = {
    "overdraft": "amount",                  # the account would pay out more than it holds
    "purpose": "use",                       # outside the lot's uses, or a prohibited use
    "function_outside_lot": "function_code",  # outside the lot's function codes
    "key_reused": "key",                    # the voucher number was used for something else
    "weak_password": "password",
    "password_too_short": "password",
    "password_too_long": "password",
    "password_guessable": "password",
}


@dataclass(frozen=True)
class Outcome:
    """What a call gave (`value`), or why the ledger refused it (`refusal`)."""
    value: Any = None
    refusal: LedgerError | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None

    def __bool__(self) -> bool:
        return self.ok


def refusal_text(refusal: LedgerError) -> str:
    """What a person reads about a refusal. The one place a refusal becomes text, so that a
    rendering of its code and params in the visitor's language happens here: the catalogued
    template (Chinese from the refusals catalog, money in 元), or, for a refusal not yet given
    its own code, the raise site's own text."""
    from ledger.core import refusals
    if refusal.code in refusals.BY_CODE and refusal.code != "refused":
        try:
            return refusals.render(refusal.code, refusal.params)
        except (KeyError, IndexError, ValueError):  # a raise site short of a parameter
            pass
    return str(refusal)


def codes_of(refusal: LedgerError) -> list[str]:
    """The refusal's code, then its family's (its class's code), without repeats."""
    return list(dict.fromkeys((refusal.code, type(refusal).code)))


def field_name(refusal: LedgerError, fields: dict[str, str] | None = None) -> str | None:
    """The name of the field `refusal` concerns: `fields` (code -> field name, the view's
    own) first, then FIELD_OF_CODE, then, for a NotFound, what was not found."""
    codes = codes_of(refusal)
    for table in (fields or {}, FIELD_OF_CODE):
        for code in codes:
            if code in table:
                return table[code]
    if "not_found" in codes:
        what = refusal.params.get("what")
        return what if isinstance(what, str) else None
    return None


def show(refusal: LedgerError, form: FlaskForm | None = None, *,
         fields: dict[str, str] | None = None, default_field: str | None = None) -> None:
    """Put `refusal` beside the field it concerns (or `default_field`), else above the form;
    without a form, flash it."""
    text = refusal_text(refusal)
    if form is None:
        flash(text, "error")
        return
    name = field_name(refusal, fields)
    if name is None or name not in form:
        name = default_field
    if name is not None and name in form:
        form[name].errors = list(form[name].errors) + [text]
    else:
        form.form_errors.append(text)


def flash_form_errors(form: FlaskForm) -> None:
    """A form posted from a page that shows no errors beside its fields (the roll page's
    buttons): its errors as one flashed message."""
    flash("; ".join(e for errors in form.errors.values() for e in errors), "error")


def run(call: Callable[[], Any], *, form: FlaskForm | None = None,
        fields: dict[str, str] | None = None, default_field: str | None = None,
        done: str | None = None, propagate: tuple[type[Exception], ...] = ()) -> Outcome:
    """Run one change: commit and flash `done` (if given) when `call` succeeds; when the
    ledger refuses, roll back and show why (see `show`)."""
    try:
        value = call()
    except (PermissionDenied, *propagate):
        raise
    except LedgerError as refusal:
        db.rollback()
        _record_attempt(refusal)
        show(refusal, form, fields=fields, default_field=default_field)
        return Outcome(refusal=refusal)
    db.commit()
    if done:
        flash(done, "ok")
    return Outcome(value)


def preview(call: Callable[[], Any]) -> Outcome:
    """Run `call` inside the request's transaction and roll it back whether it succeeds or
    not: what it would write (render the page inside `call`, before the rollback), or why the
    ledger refuses. Nothing is shown; PermissionDenied propagates."""
    try:
        return Outcome(call())
    except PermissionDenied:
        raise
    except LedgerError as refusal:
        db.rollback()
        # An upload refused at its preview was still tried: its attempt is recorded.
        _record_attempt(refusal)
        return Outcome(refusal=refusal)
    finally:
        db.rollback()


def _record_attempt(refusal: LedgerError) -> None:
    """After the rollback: a refusal that prevented a misuse leaves its attempt for auditors
    (ledger.funds.refusals_log), in a transaction of its own on the request's session."""
    if attempt_of(refusal) is None:
        return
    try:
        record_refused(db.session(), refusal)
        db.commit()
    except Exception:
        db.rollback()
        raise
