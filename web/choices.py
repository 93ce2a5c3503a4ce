"""What the money forms offer: the lots the signed-in unit holds money of, and their purposes.

Shared by the record forms (web.views.staff) and the new-roll form (web.views.rolls). The
choices come from the scoped reads (ledger.reading.scoped), so a form offers only what the
actor may spend; the services check again when the form is posted.
"""
from __future__ import annotations

from ledger.i18n import yuan
from ledger.i18n.labels import label
from ledger.models import AccountKind, FundLot, User
from ledger.reading import scoped as reading


def held_in_scope(session, me: User, kinds=(AccountKind.UNIT,)) -> list[tuple[FundLot, int]]:
    """(lot, fen available) for the actor's own unit and, with AccountKind.PROJECT in
    `kinds`, each of its projects; a lot appears once per account holding it."""
    held = []
    for kind in kinds:
        if kind is AccountKind.UNIT:
            held += reading.lots_held(session, me, me.region_code)
        else:
            for project, _stage in reading.projects(session, me):
                held += reading.lots_held(session, me, project.code, AccountKind.PROJECT)
    return held


def lot_choices(held) -> list[tuple[int, str]]:
    """One choice per lot, with what all its accounts in `held` have available together."""
    seen: dict[int, tuple[FundLot, int]] = {}
    for lot, available in held:
        seen[lot.id] = (lot, seen.get(lot.id, (lot, 0))[1] + available)
    return [(lot.id, f"#{lot.id} {lot.doc_number}（{label(lot.source_level)} {lot.year}） "
                     f"{lot.title} — {yuan(avail)}")
            for lot, avail in seen.values()]


def purpose_choices(held) -> tuple[list[str], list[str]]:
    """The function codes and the uses the lots in `held` allow (sorted)."""
    lots = {lot.id: lot for lot, _ in held}.values()
    return (sorted({c for lot in lots for c in lot.function_codes}),
            [(u, label(u, "Use")) for u in sorted({u for lot in lots for u in lot.allowed_uses})])
