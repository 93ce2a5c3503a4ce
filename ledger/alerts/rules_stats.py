"""Statistical screens (STA-01 first digits, STA-02 round amounts, STA-03 non-working-day
entries), reported as ranked leads, not alerts.

Each screen runs one test per paying unit and year and gives it a p-value (scipy.stats); the
p-values of every test of the scan, all three screens together, go through Benjamini–Hochberg
at the false-discovery rate `sta_leads_fdr_permille`; a test it keeps whose effect also passes
the screen's floor is a lead, and a county keeps at most `sta_leads_per_county_year` leads a
year, the smallest q-values first. Each lead is a Finding of its screen (severity low, method
statistical) with the test in its evidence (`lead`). docs/alerts.md, "Statistical leads".

Why not one alert per thing seen: an honest county books a few percent of its entries on
weekends and pays many round amounts; STA-03 raised one alert per non-working day with an
entry (194–311 per 2,000 households on an independent province) — more than a county can
work through, and most of them chance.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from ledger.alerts.base import ScanContext, payments, transfer_evidence
from ledger.alerts.entry import Setting, rule
from ledger.core.workdays import is_working_day
from ledger.i18n import N_
from ledger.models import Payee, PayeeKind, Region, RegionLevel
from ledger.screening.finding import Finding
from ledger.screening.finding import shown as zh

BENFORD = {d: math.log10(1 + 1 / d) for d in range(1, 10)}
SAMPLE = 20  # vouchers listed in a lead's evidence: where to start, not the whole set

LEADS_FDR_PERMILLE = Setting(
    "sta_leads_fdr_permille", 50,
    "Benjamini–Hochberg false-discovery rate q = 0.05 over every test of the scan (the "
    "conventional level; at most about one lead in twenty is expected to be chance)")
LEADS_PER_COUNTY_YEAR = Setting(
    "sta_leads_per_county_year", 3,
    "a handful a county can work through beside its alerts (issue 18)")
STA01_MIN_PAYMENTS = Setting("sta01_min_payments", 300,
                             "Benford needs volume: ≥ 300 contractor payments a unit-year "
                             "(Nigrini)")
STA01_MAD_LIMIT_MILLIONTHS = Setting("sta01_mad_limit_millionths", 15_000,
                                     "effect floor: first-digit MAD > 0.015, nonconformity "
                                     "(Nigrini); the χ² test alone rejects large honest "
                                     "samples for small departures")
STA02_ROUND_FEN = Setting("sta02_round_fen", 1000_00, "amounts divisible by ¥1,000")
STA02_MIN_PAYMENTS = Setting("sta02_min_payments", 20,
                             "contractor payments a unit-year needs before its share is tested")
STA02_MIN_RATIO_PERCENT = Setting("sta02_min_ratio_percent", 200,
                                  "effect floor: the unit's share of round amounts at least "
                                  "twice the peers'")
STA03_MIN_ENTRIES = Setting("sta03_min_entries", 20,
                            "entries a unit-year needs before its share is tested")
STA03_MIN_RATIO_PERCENT = Setting("sta03_min_ratio_percent", 300,
                                  "effect floor: the unit's share of non-working-day entries at "
                                  "least three times the expected share (honest counties' "
                                  "weekend shares differ by up to about twice)")

# All three screens read all of these: the false-discovery control and the cap rank the
# screens' tests together, so a setting of one screen can change another's leads.
SCREEN_SETTINGS = (LEADS_FDR_PERMILLE, LEADS_PER_COUNTY_YEAR, STA01_MIN_PAYMENTS,
                   STA01_MAD_LIMIT_MILLIONTHS, STA02_ROUND_FEN, STA02_MIN_PAYMENTS,
                   STA02_MIN_RATIO_PERCENT, STA03_MIN_ENTRIES, STA03_MIN_RATIO_PERCENT)


@dataclass
class ScreenTest:
    """One test of one screen on one unit-year, and, once ranked, its q-value and rank."""
    rule_id: str
    unit: str
    year: int
    test: str
    reference: str
    statistic: float
    p_value: float
    sample_size: int
    observed: dict
    expected: dict
    effect: float          # MAD (STA-01) or observed / expected share (STA-02, STA-03)
    effect_floor: float
    county: str = ""
    q_value: float | None = None
    rank: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def passes_floor(self) -> bool:
        return self.effect > self.effect_floor if self.rule_id == "STA-01" \
            else self.effect >= self.effect_floor

    def as_lead(self) -> dict:
        """The lead as the finding's evidence keeps it. Audit entries hold integers and text
        only (ledger/audit/entries.py), so every fractional number is text of four
        significant digits: a p-value of 1e-40 stays 1e-40."""
        return _stored({
            "test": self.test, "reference": self.reference, "statistic": self.statistic,
            "p_value": self.p_value, "q_value": self.q_value, "rank": self.rank,
            "unit": self.unit, "county": self.county, "year": self.year,
            "sample_size": self.sample_size, "observed": self.observed,
            "expected": self.expected, "effect": self.effect,
            "effect_floor": self.effect_floor})


def _stored(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return {k: _stored(v) for k, v in value.items()}
    return value


def benjamini_hochberg(p_values) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the order given: the test of
    p-value p_i is rejected at false-discovery rate α exactly when q_i ≤ α, and the rejections
    are those of the step-up procedure (the largest k with p_(k) ≤ k·α/m, and every smaller
    p-value). scipy.stats.false_discovery_control computes them."""
    values = [float(p) for p in p_values]
    if not values:
        return []
    from scipy.stats import false_discovery_control
    return [float(q) for q in false_discovery_control(values, method="bh")]


def ranked_leads(ctx: ScanContext) -> list[ScreenTest]:
    """Every screen's tests, BH-adjusted together, floored and capped per county-year — once a
    scan (a screen run alone computes them all: its leads depend on the others' tests)."""
    cached = ctx.cache.get("sta_leads")
    if cached is not None:
        return cached
    cfg = ctx.settings
    tests = _benford_tests(ctx, cfg) + _round_tests(ctx, cfg) + _non_working_tests(ctx, cfg)
    leads = choose_leads(tests, cfg.sta_leads_fdr_permille / 1000,
                         cfg.sta_leads_per_county_year, _county_of(ctx))
    ctx.cache["sta_leads"] = leads
    return leads


def choose_leads(tests: list[ScreenTest], fdr: float, cap: int, county_of) -> list[ScreenTest]:
    """Benjamini–Hochberg over all `tests` at rate `fdr`; of the tests it rejects, those whose
    effect passes their floor, at most `cap` per county (`county_of(unit)`) and year, the
    smallest q-value first (then p-value, then effect over its floor). Sets each test's
    q-value, and each lead's county and rank; returns the leads by county, year and rank."""
    by_county_year = defaultdict(list)
    for t, q in zip(tests, benjamini_hochberg([t.p_value for t in tests])):
        t.q_value, t.county = q, county_of(t.unit)
        t.extra.update(tests_in_scan=len(tests), fdr=fdr)
        if q <= fdr and t.passes_floor:
            by_county_year[(t.county, t.year)].append(t)
    leads = []
    for group in by_county_year.values():
        group.sort(key=lambda t: (t.q_value, t.p_value, -t.effect / (t.effect_floor or 1),
                                  t.rule_id, t.unit))
        for rank, t in enumerate(group[:cap], start=1):
            t.rank = rank
            leads.append(t)
    leads.sort(key=lambda t: (t.county, t.year, t.rank))
    return leads


def _county_of(ctx: ScanContext):
    """unit → the county it belongs to (itself when it is a county or above it)."""
    regions = {code: (level, parent) for code, level, parent in ctx.session.execute(
        select(Region.code, Region.level, Region.parent_code)).all()}

    def county(unit: str) -> str:
        code = unit
        while code in regions:
            level, parent = regions[code]
            if level in (RegionLevel.COUNTY, RegionLevel.CITY, RegionLevel.PROVINCE) \
                    or parent is None:
                return code
            code = parent
        return unit
    return county


def _year(column):
    return func.extract("year", column)


def _contractors():
    """Payments to anyone but a household: contractors registered before payees had kinds,
    and the businesses, persons and units of the county's payees file (issue 17)."""
    p = payments()
    return p, select().select_from(p).join(Payee, Payee.code == p.c.payee) \
        .where(Payee.kind != PayeeKind.HOUSEHOLD)


# ----------------------------------------------------------------------------- STA-01

def _benford_tests(ctx: ScanContext, cfg) -> list[ScreenTest]:
    """χ² goodness of fit of a unit-year's contractor payments' first digits to Benford's law
    (8 degrees of freedom); effect: Nigrini's mean absolute deviation of the proportions."""
    p, q = _contractors()
    digit = func.substr(func.cast(p.c.amount, Payee.code.type), 1, 1)
    year = _year(p.c.date)
    counts = defaultdict(dict)
    for unit, y, d, n in ctx.session.execute(
            q.add_columns(p.c.county, year, digit, func.count())
            .group_by(p.c.county, year, digit)).all():
        if d and d != "0":
            counts[(unit, int(y))][int(d)] = n
    return benford_tests(counts, cfg.sta01_min_payments,
                         cfg.sta01_mad_limit_millionths / 1_000_000)


def benford_tests(counts: dict, min_n: int, mad_limit: float) -> list[ScreenTest]:
    """counts: (unit, year) → {first digit: payments}. One χ² test a unit-year of at least
    `min_n` payments; its effect is the MAD, its floor `mad_limit`."""
    tests = []
    for (unit, y), by_digit in sorted(counts.items()):
        total = sum(by_digit.values())
        if total < min_n:
            continue
        from scipy.stats import chisquare  # here: importing scipy.stats takes a second or two
        observed = [by_digit.get(d, 0) for d in BENFORD]
        expected = [total * BENFORD[d] for d in BENFORD]
        result = chisquare(observed, expected)
        mad = sum(abs(o / total - BENFORD[d]) for o, d in zip(observed, BENFORD)) / 9
        tests.append(ScreenTest(
            "STA-01", unit, y, "χ² goodness of fit (chi-square), 8 df",
            "Benford's first-digit law P(d) = log10(1 + 1/d)", float(result.statistic),
            float(result.pvalue), total,
            {str(d): o for d, o in zip(BENFORD, observed)},
            {str(d): round(e, 1) for d, e in zip(BENFORD, expected)},
            mad, mad_limit))
    return tests


def _first_digit_sample(ctx: ScanContext, lead: ScreenTest) -> list[dict]:
    """The payments of the lead's most over-represented first digit."""
    excess = max(lead.observed, key=lambda d: lead.observed[d] - lead.expected[d])
    p, q = _contractors()
    digit = func.substr(func.cast(p.c.amount, Payee.code.type), 1, 1)
    rows = ctx.session.execute(q.add_columns(*p.c).where(
        p.c.county == lead.unit, _year(p.c.date) == lead.year, digit == excess)
        .order_by(p.c.date, p.c.id).limit(SAMPLE)).all()
    return [transfer_evidence(r) for r in rows]


@rule("STA-01", N_("本福特偏离"), "Benford nonconformity", severity="low", method="statistical",
      why=N_("某单位一年内付给承包方的金额，首位数字偏离本福特定律的程度超过偶然和 Nigrini 不符合界"
             "限所允许的范围：编造的金额很少符合该定律。这是供抽查的线索，不是预警。"),
      basis=N_("对本福特分布的 χ² 检验（自由度8），对本次扫描的全部检验作 Benjamini–Hochberg 校正，"
               "Nigrini MAD > 0.015；每县每年至多几条线索"),
      next_action=N_("抽查该单位首位数字偏多的凭证。"),
      settings=SCREEN_SETTINGS,
      not_planted="a signal about a unit-year's whole distribution of contractor payments "
                  "(at least 300), not about one payment; tested on generated honest and "
                  "fabricated units in tests/ledger/alerts/test_stats_leads.py")
def sta01_benford(ctx: ScanContext) -> list[Finding]:
    return [Finding("STA-01", *_lead_fields(
        t, f"首位数字偏离本福特定律 χ²={t.statistic:.1f}, MAD {t.effect:.4f}, "
           f"{t.sample_size} 笔 (first digits vs Benford)",
        {"sample_vouchers": _first_digit_sample(ctx, t)}),
        observed_shown=zh(N_("首位数字偏离本福特定律 χ²={chi}，MAD {mad}，{n} 笔"),
                          chi=f"{t.statistic:.1f}", mad=f"{t.effect:.4f}", n=t.sample_size),
        threshold_shown=_lead_threshold(t))
        for t in ranked_leads(ctx) if t.rule_id == "STA-01"]


# ----------------------------------------------------------------------------- STA-02

def _round_tests(ctx: ScanContext, cfg) -> list[ScreenTest]:
    """One-sided exact binomial test of a unit-year's share of round contractor payments
    against the pooled share of every other unit that year (its peers)."""
    p, q = _contractors()
    unit_fen = cfg.sta02_round_fen
    year = _year(p.c.date)
    rows = ctx.session.execute(q.add_columns(
        p.c.county, year, func.count(),
        func.sum(case((p.c.amount % unit_fen == 0, 1), else_=0)))
        .group_by(p.c.county, year)).all()
    return share_tests(
        "STA-02", {(u, int(y)): (int(r or 0), n) for u, y, n, r in rows},
        cfg.sta02_min_payments, cfg.sta02_min_ratio_percent / 100,
        f"payments in multiples of ¥{unit_fen // 100:,}", calendar=None)


def _round_sample(ctx: ScanContext, lead: ScreenTest, cfg) -> list[dict]:
    p, q = _contractors()
    rows = ctx.session.execute(q.add_columns(*p.c).where(
        p.c.county == lead.unit, _year(p.c.date) == lead.year,
        p.c.amount % cfg.sta02_round_fen == 0)
        .order_by(p.c.date, p.c.id).limit(SAMPLE)).all()
    return [transfer_evidence(r) for r in rows]


@rule("STA-02", N_("整数金额偏多"), "Excess of round amounts", severity="low", method="statistical",
      why=N_("某单位当年付给承包方整数金额的频率远高于同级单位：估算或编造的金额往往是整数。这是供"
             "抽查的线索，不是预警。"),
      basis=N_("对同级单位合并比例的单侧精确二项检验，对本次扫描的全部检验作 Benjamini–Hochberg 校"
               "正，比例不低于同级的2倍；每县每年至多几条线索"),
      next_action=N_("对照合同和发票抽查该单位的整数金额凭证。"),
      settings=SCREEN_SETTINGS,
      not_planted="a unit-year's share of round amounts against its peers, not one payment; "
                  "tested on generated honest and fabricated units in "
                  "tests/ledger/alerts/test_stats_leads.py")
def sta02_round_amounts(ctx: ScanContext) -> list[Finding]:
    cfg = ctx.settings
    return [Finding("STA-02", *_lead_fields(
        t, f"整数金额占比 {t.observed['share']:.1%}，同级 {t.expected['share']:.1%} "
           f"({t.observed['count']} of {t.sample_size} round, peers' share)",
        {"sample_vouchers": _round_sample(ctx, t, cfg)}),
        observed_shown=zh(N_("整数金额占比 {share}，同级 {peers}（{n} 笔中 {count} 笔为整数）"),
                          share=f"{t.observed['share']:.1%}", peers=f"{t.expected['share']:.1%}",
                          count=t.observed["count"], n=t.sample_size),
        threshold_shown=_lead_threshold(t))
        for t in ranked_leads(ctx) if t.rule_id == "STA-02"]


# ----------------------------------------------------------------------------- STA-03

def _non_working_tests(ctx: ScanContext, cfg) -> list[ScreenTest]:
    """One-sided exact binomial test of a unit-year's share of entries dated on a non-working
    day against the pooled share of every other unit that year — or, with no peers of enough
    entries, the calendar's share of non-working days in the year."""
    p = payments()
    rows = ctx.session.execute(
        select(p.c.county, p.c.date, func.count()).group_by(p.c.county, p.c.date)).all()
    counts = defaultdict(lambda: [0, 0])   # (unit, year) → [non-working entries, entries]
    for unit, day, n in rows:
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        cell = counts[(unit, day.year)]
        cell[0] += 0 if is_working_day(day) else n
        cell[1] += n
    return share_tests("STA-03", {k: tuple(v) for k, v in counts.items()},
                       cfg.sta03_min_entries, cfg.sta03_min_ratio_percent / 100,
                       "entries dated on a non-working day", calendar=calendar_share)


def calendar_share(year: int) -> float:
    """The share of the year's days that are not working days (weekends and holidays, 调休
    counted; weekends only for a year chinese_calendar does not know)."""
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days)]
    return sum(not is_working_day(d) for d in days) / len(days)


def _non_working_sample(ctx: ScanContext, lead: ScreenTest) -> list[dict]:
    p = payments()
    rows = ctx.session.execute(select(p).where(p.c.county == lead.unit,
                                               _year(p.c.date) == lead.year)
                               .order_by(p.c.date, p.c.id)).all()
    out = []
    for r in rows:
        day = dt.date.fromisoformat(r.date) if isinstance(r.date, str) else r.date
        if not is_working_day(day):
            out.append(transfer_evidence(r) | {"weekday": day.strftime("%A")})
            if len(out) == SAMPLE:
                break
    return out


@rule("STA-03", N_("非工作日记账"), "Entries on non-working days",
      severity="low", method="statistical",
      why=N_("某单位当年记在周末和法定节假日的分录远多于同级单位（按内地日历含调休）：事后补造的分"
             "录日期往往填得随意。这是供核查的线索，不是预警。"),
      basis=N_("对同级单位合并比例的单侧精确二项检验（无同级单位时用日历中非工作日的比例），对本次"
               "扫描的全部检验作 Benjamini–Hochberg 校正，比例不低于预期的3倍；日历：国务院办公厅节"
               "假日安排通知（chinese_calendar）；每县每年至多几条线索"),
      next_action=N_("查明谁在周末录入了这些分录以及原因。"),
      settings=SCREEN_SETTINGS,
      not_planted="a unit-year's share of entries on non-working days, not one entry; tested "
                  "on generated honest and fabricated units in "
                  "tests/ledger/alerts/test_stats_leads.py")
def sta03_non_working_day(ctx: ScanContext) -> list[Finding]:
    return [Finding("STA-03", *_lead_fields(
        t, f"非工作日记账占比 {t.observed['share']:.1%}，预期 {t.expected['share']:.1%} "
           f"({t.observed['count']} of {t.sample_size} entries on non-working days)",
        {"sample_vouchers": _non_working_sample(ctx, t)}),
        observed_shown=zh(N_("非工作日记账占比 {share}，预期 {expected}（{n} 笔中 {count} 笔在非工作日）"),  # noqa: E501
                          share=f"{t.observed['share']:.1%}",
                          expected=f"{t.expected['share']:.1%}", count=t.observed["count"],
                          n=t.sample_size),
        threshold_shown=_lead_threshold(t))
        for t in ranked_leads(ctx) if t.rule_id == "STA-03"]


# ----------------------------------------------------------------------------- shared

def share_tests(rule_id: str, counts: dict, min_n: int, floor: float, what: str,
                calendar) -> list[ScreenTest]:
    """counts: (unit, year) → (hits, n). Tests each unit-year of at least `min_n` against the
    pooled share of the other units of that year with at least `min_n` between them; without
    such peers, against `calendar(year)` if given, else not at all."""
    totals = defaultdict(lambda: [0, 0])
    for (_, year), (hits, n) in counts.items():
        totals[year][0] += hits
        totals[year][1] += n
    tests = []
    for (unit, year), (hits, n) in sorted(counts.items()):
        if n < min_n:
            continue
        peer_hits, peer_n = totals[year][0] - hits, totals[year][1] - n
        if peer_n >= min_n:
            # Jeffreys' estimate: peers with no hit at all still give a share above zero, so
            # one hit of the unit is not infinitely unlikely.
            share = (peer_hits + 0.5) / (peer_n + 1)
            reference = f"binomial, peers' pooled share of {what} ({peer_hits} of {peer_n})"
            source = "peers"
        elif calendar is not None:
            share = calendar(year)
            reference = f"binomial, the calendar's share of non-working days in {year}"
            source = "calendar"
        else:
            continue
        from scipy.stats import binomtest  # here: importing scipy.stats takes a second or two
        result = binomtest(hits, n, share, alternative="greater")
        observed_share = hits / n
        tests.append(ScreenTest(
            rule_id, unit, year, "one-sided exact binomial test", reference,
            float(hits), float(result.pvalue), n,
            {"count": hits, "share": round(observed_share, 6)},
            {"count": round(n * share, 1), "share": round(share, 6), "source": source},
            observed_share / share, floor))
    return tests


def _lead_threshold(t: ScreenTest) -> dict:
    """`_lead_fields`' threshold as people read it (issue 20)."""
    return zh(N_("Benjamini–Hochberg q = {q} ≤ {fdr}（本次扫描共 {tests} 项检验）；效应 {effect}，"
                 "下限 {floor}；{county} {year} 年线索第 {rank} 名"),
              q=f"{t.q_value:.4g}", fdr=f"{t.extra['fdr']:g}", tests=t.extra["tests_in_scan"],
              effect=f"{t.effect:.4g}", floor=f"{t.effect_floor:.4g}", county=t.county,
              year=t.year, rank=t.rank)


def _lead_fields(t: ScreenTest, observed: str, evidence: dict) -> tuple:
    """A lead's Finding after its rule id: entity, unit, what was observed, the threshold in
    force, no amount at risk (a lead claims nothing about a payment), and the test."""
    threshold = (f"Benjamini–Hochberg q = {t.q_value:.4g} ≤ {t.extra['fdr']:g} over "
                 f"{t.extra['tests_in_scan']} tests; effect {t.effect:.4g} vs floor "
                 f"{t.effect_floor:.4g}; rank {t.rank} of county {t.county}'s leads of "
                 f"{t.year}")
    return ("unit", f"{t.unit}:{t.year}", t.unit, observed, threshold, 0,
            {"lead": t.as_lead() | {"tests_in_scan": t.extra["tests_in_scan"],
                                    "fdr_permille": round(t.extra["fdr"] * 1000)},
             **evidence})
