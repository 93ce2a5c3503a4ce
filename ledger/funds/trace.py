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

from ledger.core.errors import NotFound
from ledger.funds.lots import get_lot
from ledger.models import Account, AccountKind, Approval, Decision, Posting, Region, User
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
    holders, parent, flows = _tree(session, lot_id)
    roots = [h for aid, h in holders.items() if aid not in parent]
    sources = [h for h in roots if h.kind in ("appropriation", "integration_in")]
    return Trace(lot.label, lot.amount_fen, sources or roots, flows)


ROOT_KINDS = ("unit", "project")


def trace_from(session: Session, actor: User, lot_id: int, root: str | None = None) -> Trace:
    """The part of a lot's trace below one holder: `root` is "unit:REGION" (a finance unit)
    or "project:CODE", by default the actor's own unit. The holder's region must be in the
    actor's scope (a county's staff read their county, never the province above it), and only
    flows inside the subtree are returned. The trace is empty when the holder has no account
    in the lot (the lot never reached it)."""
    lot = get_lot(session, lot_id)
    kind, _, code = (root or f"unit:{actor.region_code}").partition(":")
    if kind not in ROOT_KINDS or not code:
        raise NotFound(f"no holder {root!r} to trace from", what="holder", key=root)
    account = session.execute(select(Account).where(
        Account.lot_id == lot_id, Account.kind == AccountKind(kind),
        Account.holder_code == code)).scalar_one_or_none()
    if account is not None:
        require(session, actor, Action.READ, account.region_code)
    elif kind == "unit":
        require(session, actor, Action.READ, code)
    else:
        require(session, actor, Action.READ, actor.region_code)
        raise NotFound(f"project {code} holds nothing of lot {lot.label}", what="holder",
                       key=root)
    if account is None:
        return Trace(lot.label, lot.amount_fen, [], {})
    holders, _parent, flows = _tree(session, lot_id)
    top = holders[account.id]
    inside: set[int] = set()

    def walk(h: Holder) -> None:
        inside.add(h.account_id)
        for child in h.children:
            walk(child)
    walk(top)
    return Trace(lot.label, lot.amount_fen, [top],
                 {k: v for k, v in flows.items() if k[0] in inside and k[1] in inside})


def _tree(session: Session, lot_id: int):
    """Every holder of the lot with what it received and passed on, linked to its main
    source; and the net flows between accounts."""
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
    return holders, parent, flows


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


@dataclass
class FlowNode:
    """A node of the flow chart: one holder, or "others" standing for the smaller ones."""
    key: str                  # unique in the chart: "unit:430121", "others:unit:430121"
    kind: str                 # a holder's kind, or "others"
    holder: str
    name: str
    received: int
    passed_on: int
    depth: int
    drill: str | None = None  # the `root` to trace from this node, when it has more below
    count: int = 1            # of an "others" node: how many holders it stands for
    payees_only: bool = False  # of an "others" node: all of them payees (户)

    @property
    def held(self) -> int:
        return self.received - self.passed_on


def flow_graph(trace: Trace, depth: int = 3, top: int = 8):
    """The trace as a chart can show it: `depth` levels below each root, the `top` largest
    children of a holder each, the rest of them as one "others" node with their sum. Below
    the root, a unit or project with money passed on names itself as the root to drill into
    (`trace_from`), whether or not the depth let its children be shown.
    Returns (nodes, links), links as (source key, target key, fen)."""
    nodes: list[FlowNode] = []
    links: list[tuple[str, str, int]] = []

    def add(h: Holder, level: int) -> str:
        key = f"{h.kind}:{h.holder}"
        value = h.passed_on if h.kind in ("appropriation", "integration_in") else h.received
        node = FlowNode(key, h.kind, h.holder, h.name, value, h.passed_on, level)
        nodes.append(node)
        children = sorted((c for c in h.children if c.received > 0),
                          key=lambda c: (-c.received, c.kind, c.holder))
        if not children:
            return key
        if level > 0 and h.kind in ROOT_KINDS:
            node.drill = key
        if level >= depth:
            return key
        for child in children[:top]:
            links.append((key, add(child, level + 1), child.received))
        rest = children[top:]
        if rest:
            amount = sum(c.received for c in rest)
            nodes.append(FlowNode(f"others:{key}", "others", "", "", amount, 0, level + 1,
                                  count=len(rest),
                                  payees_only=all(c.kind == "payee" for c in rest)))
            links.append((key, f"others:{key}", amount))
        return key
    for root in trace.roots:
        add(root, 0)
    return nodes, links


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
