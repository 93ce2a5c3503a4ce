"""Spending classification: function codes (支出功能分类) and uses, with the prohibited list.

Versioned by year in the real world (DOMAIN.md §3); this table is the 2017– layout of 类 213
农林水 → 款 21305 扶贫. A lot's function codes and allowed uses are checked against it when the
lot is opened, and every expenditure is checked against the lot (purpose lock, invariant 4).
"""
from __future__ import annotations

from ledger.core.errors import PurposeViolation

FUNCTION_CODES = {
    "2130501": "行政运行 (administration)",
    "2130502": "一般行政管理事务 (general administrative affairs)",
    "2130503": "机关服务 (agency services)",
    "2130504": "农村基础设施建设 (rural infrastructure)",
    "2130505": "生产发展 (production development)",
    "2130506": "社会发展 (social development)",
    "2130507": "贷款奖补和贴息 (loan rewards and interest subsidies)",
    "2130508": "“三西”农业建设专项补助 (Sanxi agricultural construction)",
    "2130550": "事业运行 (institution operation)",
    "2130599": "其他扶贫支出 (other poverty-alleviation spending)",
}

# Special-fund money must never land on administrative codes (DOMAIN.md §3).
ADMINISTRATIVE_CODES = frozenset({"2130501", "2130502", "2130503", "2130550"})

# Uses a lot may allow, each tied to the household or project benefit it pays for.
USES = {
    "infrastructure": "农村基础设施 (village roads, water, power)",
    "industry": "产业发展 (planting, breeding, processing with a benefit link)",
    "household_subsidy": "到户补助 (per-household or per-person payments)",
    "employment": "就业帮扶与以工代赈 (jobs, work-for-relief wages to villagers)",
    "training": "技能培训 (skills training)",
    "credit_subsidy": "小额信贷贴息 (interest subsidy on micro-credit)",
    "relocation": "易地搬迁后续扶持 (follow-up support after relocation)",
    "education": "教育帮扶 (school subsidies)",
    "housing": "危房改造 (dangerous-housing renovation)",
}

# 负面清单: uses that special funds may never pay for (DOMAIN.md §3, research §(a)C).
PROHIBITED_USES = {
    "admin_expenses":
        "行政事业单位基本支出和人员经费 (basic spending and wages of government units)",
    "bonuses": "奖金、津贴和福利补助 (bonuses, allowances, welfare)",
    "office_buildings": "楼堂馆所 (office buildings and halls)",
    "vehicles_telecom": "交通工具及通讯设备 (vehicles and telecom equipment)",
    "enterprise_losses": "弥补企业亏损 (covering enterprise losses)",
    "debt_repayment": "偿还债务和弥补预算缺口 (debt repayment, budget gaps)",
    "capital_construction": "大中型基本建设项目 (large and medium capital construction)",
    "urban_infrastructure": "城市基础设施建设 (urban infrastructure)",
    "guarantee_deposits": "企业担保金 (guarantee deposits)",
    "image_projects": "形象工程 (landscape and image projects)",
}


def check_lot_purpose(function_codes: list[str], allowed_uses: list[str]) -> None:
    """Refuse a lot whose declared purpose is unknown, administrative or prohibited."""
    if not function_codes:
        raise PurposeViolation("a fund lot needs at least one function code (支出功能分类)",
                               code="lot_without_function_code")
    if not allowed_uses:
        raise PurposeViolation("a fund lot needs at least one allowed use",
                               code="lot_without_use")
    for code in function_codes:
        if code not in FUNCTION_CODES:
            raise PurposeViolation(f"function code {code!r} is not a 21305xx poverty code",
                                   code="function_code_unknown", function_code=code)
        if code in ADMINISTRATIVE_CODES:
            raise PurposeViolation(
                f"function code {code} ({FUNCTION_CODES[code]}) is administrative; "
                "special funds may not be spent on it", code="function_code_administrative",
                function_code=code)
    for use in allowed_uses:
        _check_use_known(use)


def check_spending(lot, function_code: str | None, use_code: str | None) -> None:
    """Refuse an expenditure outside its lot's function codes and uses (invariant 4)."""
    if not function_code or not use_code:
        raise PurposeViolation("a payment must name its function code and its use",
                               code="purpose_unnamed", function_code=function_code,
                               use=use_code)
    if use_code in PROHIBITED_USES:
        raise PurposeViolation(
            f"use {use_code!r} is on the prohibited list: {PROHIBITED_USES[use_code]}",
            code="use_prohibited", use=use_code)
    _check_use_known(use_code)
    if function_code not in lot.function_codes:
        raise PurposeViolation(
            f"function code {function_code} is outside lot {lot.label}, "
            f"which may be spent on {', '.join(lot.function_codes)} only",
            code="function_outside_lot", function_code=function_code, lot=lot.id,
            allowed=lot.function_codes)
    if use_code not in lot.allowed_uses:
        raise PurposeViolation(
            f"use {use_code!r} is outside lot {lot.label}, "
            f"which allows {', '.join(lot.allowed_uses)} only",
            code="use_outside_lot", use=use_code, lot=lot.id, allowed=lot.allowed_uses)


def _check_use_known(use: str) -> None:
    if use in PROHIBITED_USES:
        raise PurposeViolation(f"use {use!r} is on the prohibited list: {PROHIBITED_USES[use]}",
                               code="use_prohibited", use=use)
    if use not in USES:
        raise PurposeViolation(f"use {use!r} is unknown; known uses: {', '.join(sorted(USES))}",
                               code="use_unknown", use=use)
