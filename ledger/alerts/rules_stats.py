"""Statistical signals (low severity, reported without a quality gate): Benford first digits,
round amounts, entries on non-working days. Counts come from GROUP BY queries."""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from sqlalchemy import case, func, select

from ledger.alerts.base import ScanContext, payments
from ledger.alerts.entry import Setting, rule
from ledger.core.workdays import is_working_day
from ledger.models import Payee, PayeeKind
from ledger.screening.finding import Finding

BENFORD = {d: math.log10(1 + 1 / d) for d in range(1, 10)}


def _non_benefit():
    p = payments()
    return p, select().select_from(p).join(Payee, Payee.code == p.c.payee) \
        .where(Payee.kind == PayeeKind.CONTRACTOR)


STA01_MIN_PAYMENTS = Setting("sta01_min_payments", 300, "Benford needs volume (Nigrini)")
STA01_MAD_LIMIT_MILLIONTHS = Setting("sta01_mad_limit_millionths", 15_000,
                                     "first-digit MAD > 0.015: nonconformity (Nigrini)")


@rule("STA-01", "本福特偏离", "Benford nonconformity", severity="low", method="statistical",
      why="First digits of a unit's payments deviate from Benford's law.",
      basis="Nigrini MAD cut-off 0.015 (first digit)",
      next_action="Sample the unit's vouchers.",
      settings=(STA01_MIN_PAYMENTS, STA01_MAD_LIMIT_MILLIONTHS),
      not_planted="a signal about a unit's whole distribution of contractor payments (at "
                  "least 300), not about one payment: a plant would have to reshape a "
                  "county's payments; statistical rules are reported without a quality gate")
def sta01_benford(ctx: ScanContext) -> list[Finding]:
    p, q = _non_benefit()
    digit = func.substr(func.cast(p.c.amount, Payee.code.type), 1, 1)
    counts = defaultdict(dict)
    for county, d, n in ctx.session.execute(
            q.add_columns(p.c.county, digit, func.count()).group_by(p.c.county, digit)).all():
        counts[county][int(d)] = n
    findings = []
    limit = ctx.settings.sta01_mad_limit_millionths
    for county, by_digit in counts.items():
        total = sum(by_digit.values())
        if total < ctx.settings.sta01_min_payments:
            continue
        mad = sum(abs(by_digit.get(d, 0) / total - BENFORD[d]) for d in BENFORD) / 9
        mad_m = int(mad * 1_000_000)
        if mad_m > limit:
            findings.append(Finding(
                "STA-01", "unit", county, county,
                f"first-digit MAD {mad_m / 1e6:.4f} over {total} payments",
                f"MAD ≤ {limit / 1e6:.3f} (Nigrini)", 0,
                {"first_digits": {str(d): by_digit.get(d, 0) for d in BENFORD},
                 "payments": total}))
    return findings


STA02_ROUND_FEN = Setting("sta02_round_fen", 1000_00, "amounts divisible by ¥1,000")
STA02_MIN_PAYMENTS = Setting("sta02_min_payments", 20,
                             "contractor payments a unit needs before its share is compared")


@rule("STA-02", "整数金额偏多", "Excess of round amounts", severity="low", method="statistical",
      why="A unit pays round amounts far more often than its peers.",
      basis="Peer fence Q3 + 1.5·IQR",
      next_action="Sample the unit's vouchers.",
      settings=(STA02_ROUND_FEN, STA02_MIN_PAYMENTS),
      not_planted="a unit's share of round amounts against its peers' fence (at least four "
                  "units of 20 contractor payments): a plant would have to reshape a county's "
                  "payments; statistical rules are reported without a quality gate")
def sta02_round_amounts(ctx: ScanContext) -> list[Finding]:
    p, q = _non_benefit()
    unit = ctx.settings.sta02_round_fen
    rows = ctx.session.execute(q.add_columns(
        p.c.county, func.count(),
        func.sum(case((p.c.amount % unit == 0, 1), else_=0))).group_by(p.c.county)).all()
    shares = {c: (int(r or 0), n) for c, n, r in rows if n >= ctx.settings.sta02_min_payments}
    if len(shares) < 4:
        return []
    ratios = sorted(r * 1000 // n for r, n in shares.values())
    q1, q3 = ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4]
    fence = q3 + 3 * (q3 - q1) // 2
    return [Finding("STA-02", "unit", c, c,
                    f"{r} of {n} payments are multiples of ¥{unit // 100} "
                    f"({r * 1000 // n}‰)", f"≤ peer fence {fence}‰ (Q3 + 1.5·IQR)", 0,
                    {"round": r, "payments": n, "q1_permille": q1, "q3_permille": q3})
            for c, (r, n) in shares.items() if r * 1000 // n > fence]


@rule("STA-03", "非工作日记账", "Entries on a non-working day",
      severity="low", method="statistical",
      why="Payments dated on public holidays or weekends (mainland calendar with 调休).",
      basis="国务院办公厅 holiday notices (chinese_calendar)",
      next_action="Check who entered them and why.",
      settings=())
def sta03_non_working_day(ctx: ScanContext) -> list[Finding]:
    p = payments()
    rows = ctx.session.execute(
        select(p.c.county, p.c.date, func.count(), func.sum(p.c.amount),
               func.min(p.c.id)).group_by(p.c.county, p.c.date)).all()
    findings = []
    for county, day, n, total, first in rows:
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        if not is_working_day(day):
            findings.append(Finding(
                "STA-03", "day", f"{county}:{day.isoformat()}", county,
                f"{n} payment(s) dated {day} ({day.strftime('%A')}, not a working day)",
                "payments dated on working days (mainland calendar, 调休 included)",
                int(total), {"first_transfer_id": first, "payments": n}))
    return findings
