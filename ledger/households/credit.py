"""Micro-credit for poor households (扶贫小额信贷) and its interest subsidy (财政贴息).

The bank lends its own money: "5万元以下、3年期以内、免担保免抵押、基准利率放贷、财政贴息"
(≤ 50,000 yuan, ≤ 3 years, no collateral, benchmark rate, interest subsidised by the fiscal
fund; research/china-fund-rules.md). So a loan is a record, not a transfer; only the subsidy
moves fund money — a payment under function code 2130507 (贷款奖补和贴息) and use
`credit_subsidy`, through the ordinary payment path with its purpose lock and maker–checker.

The subsidy for a period is principal × annual rate × days / 365, rounded down to the fen
(the household is never paid a fraction the rule does not give). It is refused for days outside
the loan's term, after the loan was repaid, defaulted or found misused (违规使用的取消贴息), and
for a period that overlaps one already subsidised.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.log import record_change
from ledger.core.errors import LedgerError
from ledger.core.money import format_yuan
from ledger.funds.flows import pay
from ledger.funds.posting import check_amount, check_date
from ledger.funds.recoveries import county_of
from ledger.households.registry import current_status, get_household, status_on
from ledger.models import (
    HouseholdStatus,
    Loan,
    LoanEvent,
    LoanEventKind,
    LoanSubsidy,
    Transfer,
    User,
)
from ledger.store.access import Action, require

# Defaults with their basis (国开办发〔2014〕78号; 2017 and 2021 micro-credit notices).
MAX_PRINCIPAL_FEN = 50_000_00
MAX_TERM_MONTHS = 36
MAX_RATE_BP = 2_000  # 20% a year: anything higher is a typing error, not a benchmark rate
SUBSIDY_FUNCTION_CODE = "2130507"
SUBSIDY_USE = "credit_subsidy"
INELIGIBLE = frozenset({HouseholdStatus.REMOVED, HouseholdStatus.CANCELLED})


def get_loan(session: Session, code: str) -> Loan:
    loan = session.execute(select(Loan).where(Loan.code == code)).scalar_one_or_none()
    if loan is None:
        raise LedgerError(f"loan {code!r} does not exist", code="not_found", what="loan",
                          key=code)
    return loan


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def term_end(loan: Loan) -> dt.date:
    """The last day the loan runs (inclusive)."""
    return add_months(loan.start_date, loan.term_months) - dt.timedelta(days=1)


def register_loan(session: Session, actor: User, *, code: str, household_code: str, bank: str,
                  principal_fen: int, annual_rate_bp: int, start_date: dt.date,
                  term_months: int, max_principal_fen: int = MAX_PRINCIPAL_FEN,
                  max_term_months: int = MAX_TERM_MONTHS) -> Loan:
    """Record a loan the bank made to a registered household. The same contract twice with
    the same figures returns the first record; with other figures it is refused."""
    if not isinstance(code, str) or not code.strip():
        raise LedgerError("a loan needs the bank's contract number", code="required",
                          field="contract_number")
    household = get_household(session, household_code)
    county = county_of(session, household.village_code)
    require(session, actor, Action.RECORD, county)
    check_amount(principal_fen, "principal")
    check_date(start_date, "start date")
    figures = dict(household_code=household_code, bank=bank, principal_fen=principal_fen,
                   annual_rate_bp=annual_rate_bp, start_date=start_date,
                   term_months=term_months)
    existing = session.execute(select(Loan).where(Loan.code == code)).scalar_one_or_none()
    if existing is not None:
        fields = [k for k, v in figures.items() if getattr(existing, k) != v]
        diffs = [f"{k}: recorded {getattr(existing, k)!r}, now {figures[k]!r}" for k in fields]
        if diffs:
            raise LedgerError(f"loan {code} is already recorded with other figures: "
                              + "; ".join(diffs), code="loan_reused", loan=code, fields=fields,
                              recorded={k: getattr(existing, k) for k in fields},
                              requested={k: figures[k] for k in fields})
        return existing
    if principal_fen > max_principal_fen:
        raise LedgerError(f"loan {code}: principal {format_yuan(principal_fen)} yuan is above the "
                          f"micro-credit limit of {format_yuan(max_principal_fen)} yuan",
                          code="loan_above_limit", loan=code, principal_fen=principal_fen,
                          max_fen=max_principal_fen)
    if not isinstance(term_months, int) or not 0 < term_months <= max_term_months:
        raise LedgerError(f"loan {code}: term must be 1–{max_term_months} months, "
                          f"got {term_months!r}", code="loan_term", loan=code,
                          value=repr(term_months), max_months=max_term_months)
    if not isinstance(annual_rate_bp, int) or not 0 < annual_rate_bp <= MAX_RATE_BP:
        raise LedgerError(f"loan {code}: annual rate must be a whole number of basis points "
                          f"between 1 and {MAX_RATE_BP} (435 = 4.35%), got {annual_rate_bp!r}",
                          code="loan_rate", loan=code, value=repr(annual_rate_bp),
                          max_bp=MAX_RATE_BP)
    if current_status(session, household_code) in INELIGIBLE:
        raise LedgerError(f"loan {code}: household {household_code} is "
                          f"{current_status(session, household_code).value} and not eligible",
                          code="loan_household_ineligible", loan=code,
                          household=household_code,
                          status=current_status(session, household_code))
    end = add_months(start_date, term_months) - dt.timedelta(days=1)
    running = [loan for loan in session.execute(select(Loan).where(
        Loan.household_code == household_code)).scalars()
        if loan.start_date <= end and start_date < subsidy_stops(session, loan)[0]]
    if sum(loan.principal_fen for loan in running) + principal_fen > max_principal_fen:
        raise LedgerError(
            f"loan {code}: household {household_code} already has "
            f"{', '.join(loan.code for loan in running)} running over the same time; together "
            f"they would exceed the micro-credit limit of {format_yuan(max_principal_fen)} yuan "
            "per household", code="loan_household_limit", loan=code, household=household_code,
            running=[loan.code for loan in running],
            running_fen=sum(loan.principal_fen for loan in running),
            principal_fen=principal_fen, max_fen=max_principal_fen)
    loan = Loan(code=code, county_code=county, recorded_by=actor.id, **figures)
    with record_change(session, actor.username, "loan.register") as change:
        change.add(loan)
    return loan


def record_loan_event(session: Session, actor: User, code: str, kind: LoanEventKind,
                      effective_date: dt.date, comment: str = "") -> LoanEvent:
    """Repaid, defaulted or misused: from that date the loan earns no more subsidy."""
    loan = get_loan(session, code)
    require(session, actor, Action.RECORD, loan.county_code)
    check_date(effective_date)
    if not isinstance(kind, LoanEventKind):
        raise LedgerError(f"loan event must be one of "
                          f"{', '.join(k.value for k in LoanEventKind)}, got {kind!r}",
                          code="invalid_choice", field="loan_event", value=repr(kind),
                          allowed=list(LoanEventKind))
    if effective_date < loan.start_date:
        raise LedgerError(f"loan {code} started on {loan.start_date}; an event cannot come "
                          f"before it ({effective_date})", code="loan_event_before_start",
                          loan=code, start_date=loan.start_date, date=effective_date)
    event = LoanEvent(loan_id=loan.id, kind=kind, effective_date=effective_date,
                      comment=comment, actor_id=actor.id)
    with record_change(session, actor.username, f"loan.{kind.value}") as change:
        change.add(event)
    return event


def subsidy_stops(session: Session, loan: Loan) -> tuple[dt.date, str]:
    """The first day without subsidy, and why: the earliest event, else the end of the term."""
    event = session.execute(select(LoanEvent).where(LoanEvent.loan_id == loan.id)
                            .order_by(LoanEvent.effective_date, LoanEvent.id)
                            .limit(1)).scalar_one_or_none()
    end = term_end(loan) + dt.timedelta(days=1)
    if event is not None and event.effective_date < end:
        return event.effective_date, f"{event.kind.value} on {event.effective_date}"
    return end, f"its term ended on {term_end(loan)}"


def subsidy_due(loan: Loan, period_start: dt.date, period_end: dt.date) -> int:
    """Interest on the principal for the days of [period_start, period_end], in whole fen."""
    days = (period_end - period_start).days + 1
    return loan.principal_fen * loan.annual_rate_bp * days // (10_000 * 365)


def pay_interest_subsidy(session: Session, actor: User, *, code: str, lot_id: int,
                         period_start: dt.date, period_end: dt.date,
                         effective_date: dt.date) -> Transfer:
    """Pay the household the interest subsidy for one period of its loan, from the county's
    share of `lot_id`. The key is the loan and period, so paying the same period twice
    returns the first payment."""
    loan = get_loan(session, code)
    require(session, actor, Action.RECORD, loan.county_code)
    check_date(period_start, "period start")
    check_date(period_end, "period end")
    key = f"loan:{code}:{period_start.isoformat()}:{period_end.isoformat()}"
    earlier = session.execute(select(Transfer).where(
        Transfer.idempotency_key == key)).scalar_one_or_none()
    if earlier is None:
        _check_period(session, loan, period_start, period_end)
    amount = subsidy_due(loan, period_start, period_end)
    if amount <= 0:
        raise LedgerError(f"loan {code}: the subsidy for {period_start}–{period_end} rounds to "
                          "nothing", code="subsidy_zero", loan=code, start=period_start,
                          end=period_end)
    transfer = pay(session, actor, lot_id=lot_id, payee_code=loan.household_code,
                   amount_fen=amount, function_code=SUBSIDY_FUNCTION_CODE,
                   use_code=SUBSIDY_USE, county_code=loan.county_code,
                   effective_date=effective_date, key=key,
                   memo=f"小额信贷贴息 {code} {period_start}至{period_end}")
    if earlier is None:
        with record_change(session, actor.username, "loan.subsidy") as change:
            change.add(LoanSubsidy(loan_id=loan.id, period_start=period_start,
                                   period_end=period_end, transfer_id=transfer.id))
    return transfer


def _check_period(session: Session, loan: Loan, start: dt.date, end: dt.date) -> None:
    if end < start:
        raise LedgerError(f"loan {loan.code}: period ends ({end}) before it starts ({start})",
                          code="dates_reversed", field="subsidy_period", start=start, end=end,
                          loan=loan.code)
    if start < loan.start_date:
        raise LedgerError(f"loan {loan.code} started on {loan.start_date}; no subsidy for "
                          f"{start}", code="subsidy_before_loan", loan=loan.code,
                          start_date=loan.start_date, start=start)
    status = status_on(session, loan.household_code, end)
    if status in INELIGIBLE:
        raise LedgerError(f"loan {loan.code}: household {loan.household_code} is "
                          f"{status.value} by {end} and no longer eligible for the subsidy",
                          code="subsidy_household_ineligible", loan=loan.code,
                          household=loan.household_code, status=status, date=end)
    stops, why = subsidy_stops(session, loan)
    if end >= stops:
        raise LedgerError(f"loan {loan.code}: no subsidy from {stops} ({why}); the period "
                          f"{start}–{end} runs past it", code="subsidy_after_stop",
                          loan=loan.code, stops=stops, start=start, end=end)
    for earlier in session.execute(select(LoanSubsidy).where(
            LoanSubsidy.loan_id == loan.id)).scalars():
        if earlier.period_start <= end and start <= earlier.period_end:
            raise LedgerError(
                f"loan {loan.code}: {start}–{end} overlaps the period "
                f"{earlier.period_start}–{earlier.period_end} already subsidised "
                f"(transfer #{earlier.transfer_id})", code="subsidy_overlap", loan=loan.code,
                start=start, end=end, earlier_start=earlier.period_start,
                earlier_end=earlier.period_end, transfer_id=earlier.transfer_id)


def loans_of(session: Session, household_code: str, actor: User | None = None) -> list[dict]:
    """A household's loans with their subsidies, for its household card (明白卡)."""
    if actor is not None:
        household = get_household(session, household_code)
        require(session, actor, Action.READ, household.village_code)
    result = []
    for loan in session.execute(select(Loan).where(Loan.household_code == household_code)
                                .order_by(Loan.start_date)).scalars():
        subsidies = session.execute(select(LoanSubsidy, Transfer.amount_fen).join(
            Transfer, Transfer.id == LoanSubsidy.transfer_id).where(
            LoanSubsidy.loan_id == loan.id).order_by(LoanSubsidy.period_start)).all()
        stops, why = subsidy_stops(session, loan)
        result.append({
            "code": loan.code, "bank": loan.bank, "principal_fen": loan.principal_fen,
            "annual_rate_bp": loan.annual_rate_bp, "start_date": loan.start_date.isoformat(),
            "term_end": term_end(loan).isoformat(), "subsidy_until": stops.isoformat(),
            "subsidy_stops_because": why,
            "subsidies": [{"from": sub.period_start.isoformat(), "to": sub.period_end.isoformat(),
                           "amount_fen": amount, "transfer_id": sub.transfer_id}
                          for sub, amount in subsidies]})
    return result
