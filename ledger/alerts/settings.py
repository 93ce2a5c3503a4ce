"""Alert thresholds and lists: documented defaults, overridden by the `[alerts]` section of the
settings file. Every default names its basis (DOMAIN.md §4, research/china-fund-rules.md §(a),
research/misuse-detection-anchors.md §7); they are starting points to recalibrate on real
outcomes (the confirmed/dismissed counts per rule), not constants.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from ledger.core.config import ConfigError


@dataclass(frozen=True)
class AlertSettings:
    # FLW-01: Budget Law art. 52(3): a province passes central transfers down within 30 days;
    # art. 52(4): lower levels pass special transfers down within 60 days.
    flw01_province_days: int = 30
    flw01_lower_days: int = 60
    flw01_min_share_percent: int = 95      # share that counts as passed down (CNAO practice)
    # FLW-02: CNAO reports idle funds ">1 year" and ">2 years" separately.
    flw02_high_days: int = 365
    flw02_critical_days: int = 730
    # DIV-01: administrative function codes (DOMAIN.md §3) and economic classes 501/502 and
    # 301/302 (wages, goods and services of government bodies), and negative-list words.
    prohibited_function_codes: tuple = ("2130501", "2130502", "2130503", "2130550")
    prohibited_economic_codes: tuple = ("301", "302", "501", "502")
    prohibited_keywords: tuple = (
        "工资", "奖金", "津贴", "福利", "慰问金", "办公楼", "会堂", "宾馆", "培训中心", "办公用房",
        "公务用车", "购车", "手机", "通讯设备", "偿还", "还款", "垫资", "平衡预算", "弥补亏损",
        "担保金", "景观", "外墙粉饰", "牌楼", "接待", "宴请")
    # DUP-01 and DUP-02: same payee and amount within 14 days (audit-analytics
    # "same-same-same" and "same-same-different", anchors §7 DUP-01/02).
    duplicate_window_days: int = 14
    # DIV-02: judge only projects with an approved-payee register (a project without one is
    # not covered until its contract list is imported); true: every project payment to a
    # contractor must be on a register.
    div02_require_register: bool = False
    # DIV-05: money from a payee back to the paying county, a unit below it, or an official
    # over it (or a close relative) within 30 days of the payment (回流, anchors §7 DIV-05).
    div05_window_days: int = 30
    # Words of the bank's memo (摘要) that mark a legitimate return: a recovery (追回/归位).
    div05_return_words: tuple = ("追回", "归位")
    # WHD-01: shortfall above max(¥1, 0.5%) once 30 days have passed after sending.
    whd01_tolerance_fen: int = 100
    whd01_tolerance_permille: int = 5
    whd01_grace_days: int = 30
    whd02_days: int = 60                   # sent to the bank, no result after 60 days
    whd04_days: int = 30                   # a bank return (退票) re-paid within 30 days
    # SPL-01: T is the approval/tender limit of the paying unit (set the local 限额标准).
    split_threshold_fen: int = 500_000_00
    split_band_permille: int = 900         # each item in [0.9T, T)
    split_min_count: int = 3
    split_window_days: int = 30
    sta05_backdate_days: int = 30          # dated this much before the unit's latest entry
    e2_notice_days: int = 10               # village project notice, at least 10 days (S6)
    ben01_month_of_death_allowed: bool = True  # a payment for the month of death is allowed
    ben03_min_households: int = 2
    per_person_items: tuple = ("教育补助", "雨露计划", "健康扶贫补助")  # D7: quantity = persons
    name_similarity_percent: int = 90      # BEN-02/04 fuzzy identity (anchors §4.5)
    official_max_degree: int = 2           # FAV-01: relatives of degree ≤ 2
    payroll_exempt_categories: tuple = ("公益性岗位", "村级临时岗位")
    agricultural_vehicle_types: tuple = ("拖拉机", "农用车", "三轮汽车", "低速货车", "农用运输车")
    business_roles: tuple = ("法定代表人", "股东", "高管")
    sta01_min_payments: int = 300          # Benford needs volume (Nigrini)
    sta01_mad_limit_millionths: int = 15_000   # first-digit MAD > 0.015: nonconformity
    sta02_round_fen: int = 1000_00         # amounts divisible by ¥1,000
    sta02_min_payments: int = 20


def alert_settings(settings) -> AlertSettings:
    """The `[alerts]` section of the settings file applied over the defaults."""
    data = (getattr(settings, "extra", None) or {}).get("alerts", {})
    return from_mapping(data, getattr(settings, "source", "settings"))


def from_mapping(data: dict, where: str = "settings") -> AlertSettings:
    known = {f.name: f for f in fields(AlertSettings)}
    changes = {}
    defaults = AlertSettings()
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{where}: [alerts] {key} is not a known setting")
        default = getattr(defaults, key)
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: [alerts] {key} must be a list of strings")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: [alerts] {key} must be true or false")
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{where}: [alerts] {key} must be a whole number ≥ 0")
        changes[key] = value
    return replace(defaults, **changes)
