"""Where a lot's money went: every fen, level by level, down to each payee (资金追溯).

Built from approved postings only: for each transfer in the lot, its outflows are paired with
its inflows; reversals net against the flow they undo. The result is a tree of holders
(province → city → county → project → payee) with what each received, passed on and holds.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from ledger.funds.lots import get_lot
from ledger.models import Account, Approval, Decision, Posting, Region, User
from ledger.store.access import Action, require


@dataclass
class Holder:
    account_id: int
    kind: str
    holder: str
    name: str
    received: int = 0
    passed_on: int = 0
    children: list["Holder"] = field(default_factory=list)

    @property
    def held(self) -> int:
        return self.received - self.passed_on

    def to_dict(self) -> dict:
        return {"kind": self.kind, "holder": self.holder, "name": self.name,
                "received_fen": self.received, "passed_on_fen": self.passed_on,
                "held_fen": self.held, "children": [c.to_dict() for c in self.children]}


@dataclass
class Trace:
    lot_label: str
    amount_fen: int
    roots: list[Holder]
    flows: dict[tuple[int, int], int]


def trace_lot(session: Session, lot_id: int, actor: User | None = None) -> Trace:
    lot = get_lot(session, lot_id)
    if actor is not None:
        require(session, actor, Action.READ, lot.region_code)
    flows = _net_flows(session, lot_id)
    accounts = {a.id: a for a in session.execute(
        select(Account).where(Account.lot_id == lot_id)).scalars()}
    names = dict(session.execute(select(Region.code, Region.name)).all())
    holders = {aid: Holder(aid, a.kind.value, a.holder_code, names.get(a.holder_code, ""))
               for aid, a in accounts.items()}
    parent: dict[int, int] = {}
    for (src, dst), amount in sorted(flows.items(), key=lambda kv: -kv[1]):
        holders[src].passed_on += amount
        holders[dst].received += amount
        parent.setdefault(dst, src)  # the main source of money is the parent in the tree
    _name_payees(session, holders)
    for child, src in parent.items():
        holders[src].children.append(holders[child])
    for h in holders.values():
        h.children.sort(key=lambda c: (c.kind, c.holder))
    roots = [h for aid, h in holders.items() if aid not in parent]
    sources = [h for h in roots if h.kind in ("appropriation", "integration_in")]
    return Trace(lot.label, lot.amount_fen, sources or roots, flows)


def _net_flows(session: Session, lot_id: int) -> dict[tuple[int, int], int]:
    out_p, in_p = aliased(Posting), aliased(Posting)
    rows = session.execute(
        select(out_p.account_id, in_p.account_id, in_p.amount_fen, out_p.amount_fen)
        .join(in_p, and_(in_p.transfer_id == out_p.transfer_id, in_p.amount_fen > 0,
                         in_p.lot_id == out_p.lot_id))
        .join(Approval, and_(Approval.transfer_id == out_p.transfer_id,
                             Approval.decision == Decision.APPROVED))
        .where(out_p.lot_id == lot_id, out_p.amount_fen < 0)).all()
    flows: dict[tuple[int, int], int] = defaultdict(int)
    for src, dst, amount_in, amount_out in rows:
        amount = min(amount_in, -amount_out)  # standard transfers have one leg each way
        if (dst, src) in flows:
            flows[(dst, src)] -= amount  # a reversal undoes the forward flow
        else:
            flows[(src, dst)] += amount
    return {k: v for k, v in flows.items() if v}


def _name_payees(session: Session, holders: dict[int, Holder]) -> None:
    from ledger.models import Payee, Project
    codes = {h.holder for h in holders.values() if h.kind in ("payee", "project")}
    names = dict(session.execute(select(Payee.code, Payee.name)
                                 .where(Payee.code.in_(codes))).all())
    names.update(session.execute(select(Project.code, Project.name)
                                 .where(Project.code.in_(codes))).all())
    for h in holders.values():
        if h.kind in ("payee", "project"):
            h.name = names.get(h.holder, "")


def render(trace: Trace, fmt_money, max_payees: int = 10) -> str:
    lines = [f"{trace.lot_label}: {fmt_money(trace.amount_fen)} yuan appropriated"]

    def walk(h: Holder, depth: int) -> None:
        label = f"{'  ' * depth}{h.kind}:{h.holder} {h.name}".rstrip()
        if h.kind in ("appropriation", "integration_in"):
            lines.append(f"{label}: issued {fmt_money(h.passed_on)}")
        else:
            lines.append(f"{label}: received {fmt_money(h.received)}, passed on "
                         f"{fmt_money(h.passed_on)}, holds {fmt_money(h.held)}")
        payees = [c for c in h.children if c.kind == "payee"]
        for child in [c for c in h.children if c.kind != "payee"] + payees[:max_payees]:
            walk(child, depth + 1)
        if len(payees) > max_payees:
            rest = payees[max_payees:]
            lines.append(f"{'  ' * (depth + 1)}… {len(rest)} more payees received "
                         f"{fmt_money(sum(c.received for c in rest))}")
    for root in trace.roots:
        walk(root, 0)
    return "\n".join(lines)
