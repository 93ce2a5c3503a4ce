"""What a public notice prints, as plain data, computed from the ledger as it stood at one
point of the audit log.

Every row in the ledger carries the log index that wrote it, so "the ledger just before entry
N" is a filter, not a snapshot: `before=N` keeps rows with `log_index < N` and approvals
decided before N. A notice recorded as entry N therefore always recomputes to the same
content, years later, and the SHA-256 of that content (`digest`) is what the notice entry
commits to. A phone or the web page that recomputes the content and gets the same digest knows
the printed rows are the ledger's rows.

Content is a dict of strings only (figures already formatted), so the digest does not depend
on how a renderer lays it out:

    {"title": str, "fields": [[label, value], ...],
     "tables": [{"heading": str, "header": [str, ...], "rows": [[str, ...], ...]}, ...]}
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from ledger.core.classification import FUNCTION_CODES
from ledger.core.errors import LedgerError
from ledger.core.idcard import mask
from ledger.core.money import format_yuan, to_daxie
from ledger.core.quantity import format_quantity
from ledger.models import (
    Account,
    AccountKind,
    Approval,
    Card,
    Decision,
    FundLot,
    Household,
    Member,
    PaymentRoll,
    Posting,
    Project,
    Region,
    RegionLevel,
    RollEvent,
    RollEventKind,
    RollLine,
    SourceLevel,
    Transfer,
    TransferKind,
)
from ledger.models.disclosure import HouseholdSupport, ProjectDetails, SupervisionContact
from ledger.rolls.lifecycle import (
    BACKDATED_NO_REASON,
    EARLY_APPROVAL,
    PUBLISHED_COMMENT,
    recorded_on,
)
from ledger.rolls.standards import standards_by_id
from ledger.store.access import ancestors

SUPERVISION_HOTLINE = "12317"

LEVEL_NAMES = {SourceLevel.CENTRAL: "中央", SourceLevel.PROVINCE: "省级",
               SourceLevel.CITY: "市级", SourceLevel.COUNTY: "县级",
               SourceLevel.INTEGRATED: "统筹整合"}
LEVEL_ORDER = list(LEVEL_NAMES)


def digest(content: dict) -> str:
    """SHA-256 over canonical JSON (sorted keys, no spaces, UTF-8) of the content."""
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_count(content: dict) -> int:
    return len(content["fields"]) + sum(len(t["rows"]) for t in content["tables"])


def function_name(code: str | None) -> str:
    name = FUNCTION_CODES.get(code or "", code or "未分类")
    return name.split(" (")[0]


def date_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def amount_text(fen: int) -> str:
    """Figures and 大写 together, as notices print every total."""
    return f"{format_yuan(fen)} 元（大写：{to_daxie(fen)}）"


def region_name(session: Session, code: str) -> str:
    region = session.get(Region, code)
    return region.name if region else code


def _approved_before(before: int):
    return and_(Approval.transfer_id == Transfer.id, Approval.decision == Decision.APPROVED,
                Approval.log_index < before)


def supervision_phones(session: Session, region_code: str, before: int) -> str:
    """Every level's supervision phone from the region up (as recorded before `before`), then
    12317. Refuses when the county has none: every public notice must print it."""
    parts, county_seen = [], False
    for code in reversed(ancestors(session, region_code)):
        region = session.get(Region, code)
        contact = session.execute(
            select(SupervisionContact).where(SupervisionContact.region_code == code,
                                             SupervisionContact.log_index < before)
            .order_by(SupervisionContact.id.desc()).limit(1)).scalar_one_or_none()
        if contact is not None:
            parts.append(f"{contact.office} {contact.phone}")
            county_seen |= region.level is RegionLevel.COUNTY
    if not county_seen:
        county = next((c for c in ancestors(session, region_code)
                       if session.get(Region, c).level is RegionLevel.COUNTY), region_code)
        raise LedgerError(f"county {county} has no supervision phone on record: add it with "
                          f"`fundtrail --as CLERK report contact --region {county} --office "
                          "NAME --phone NUMBER`", code="supervision_phone_missing",
                          county=county)
    return "；".join(parts + [f"全国扶贫监督举报电话 {SUPERVISION_HOTLINE}"])


# ----------------------------------------------------------------------------- project notice

def latest_details(session: Session, project_code: str, before: int) -> ProjectDetails | None:
    return session.execute(
        select(ProjectDetails).where(ProjectDetails.project_code == project_code,
                                     ProjectDetails.log_index < before)
        .order_by(ProjectDetails.id.desc()).limit(1)).scalar_one_or_none()


def project_sources(session: Session, project_code: str, before: int) -> list[tuple]:
    """(source level, document number, fen) put behind the project: approved FUND_PROJECT
    transfers into its accounts, less their approved reversals, grouped by lot."""
    original = aliased(Transfer)
    stmt = (select(FundLot.source_level, FundLot.doc_number, func.sum(Posting.amount_fen))
            .join(Account, Posting.account_id == Account.id)
            .join(Transfer, Posting.transfer_id == Transfer.id)
            .join(Approval, _approved_before(before))
            .join(FundLot, FundLot.id == Account.lot_id)
            .outerjoin(original, Transfer.reverses_id == original.id)
            .where(Account.kind == AccountKind.PROJECT, Account.holder_code == project_code,
                   or_(Transfer.kind == TransferKind.FUND_PROJECT,
                       original.kind == TransferKind.FUND_PROJECT))
            .group_by(FundLot.source_level, FundLot.doc_number))
    rows = [(level, doc, int(total)) for level, doc, total in session.execute(stmt) if total]
    return sorted(rows, key=lambda r: (LEVEL_ORDER.index(r[0]), r[1]))


def project_stage_before(session: Session, project_code: str, before: int):
    from ledger.models import ProjectEvent, ProjectStatus
    return session.execute(
        select(ProjectEvent.status).where(ProjectEvent.project_code == project_code,
                                          ProjectEvent.status != ProjectStatus.FILED,
                                          ProjectEvent.log_index < before)
        .order_by(ProjectEvent.id.desc()).limit(1)).scalar_one_or_none()


def project_notice(session: Session, project_code: str, village_code: str,
                   display_from: dt.date, display_to: dt.date, before: int) -> dict:
    from ledger.models import ProjectStatus
    project = session.get(Project, project_code)
    if project is None or project.log_index >= before:
        raise LedgerError(f"project {project_code!r} does not exist", code="not_found",
                          what="project", key=project_code)
    details = latest_details(session, project_code, before)
    if details is None:
        raise LedgerError(f"project {project_code} has no notice details yet: record them with "
                          f"`fundtrail --as CLERK report project-details {project_code} ...`",
                          code="notice_details_missing", project=project_code)
    if village_code not in details.village_codes:
        raise LedgerError(f"project {project_code} is not posted in village {village_code} "
                          f"(its details name {', '.join(details.village_codes)})",
                          code="notice_village_not_named", project=project_code,
                          village=village_code, villages=details.village_codes)
    stage = project_stage_before(session, project_code, before)
    after = stage in (ProjectStatus.ACCEPTED, ProjectStatus.CLOSED)
    word = "公告" if after else "公示"
    sources = project_sources(session, project_code, before)
    total = sum(fen for _, _, fen in sources)
    county = region_name(session, project.county_code)
    fields = [
        ["项目名称", f"{project.name}（项目编号 {project.code}）"],
        ["项目地点", details.place], ["建设内容及规模", details.content],
        ["补助标准", details.subsidy_standard],
        ["实施期限", f"{date_text(details.start_date)} 至 {date_text(details.end_date)}"],
        ["实施单位", f"{details.implementer}（项目责任人：{details.responsible_person}）"],
        ["绩效目标", details.performance_targets],
        ["带贫减贫机制", details.benefit_mechanism],
        [f"{word}期", f"{date_text(display_from)} 至 {date_text(display_to)}，"
                     f"共 {(display_to - display_from).days + 1} 天"],
        ["监督举报电话", f"{county}：{details.supervision_phone}；"
                       f"全国扶贫监督举报电话：{SUPERVISION_HOTLINE}"],
        ["发布单位及日期", f"{details.issuing_unit}　{date_text(display_from)}"],
    ]
    rows = [[LEVEL_NAMES[level], doc, format_yuan(fen)] for level, doc, fen in sources]
    rows.append(["合计", f"大写：{to_daxie(total)}", format_yuan(total)])
    title = f"{region_name(session, village_code)}扶贫项目{word}"
    return {"title": title + ("（验收结果）" if after else ""),
            "fields": fields,
            "tables": [{"heading": "资金来源及金额（按级次）",
                        "header": ["资金级次", "资金文号", "金额（元）"], "rows": rows}]}


# ----------------------------------------------------------------------------- payment roll

def display_name(name: str, style: str) -> str:
    """Names as local practice shows them: in full, or with the given name masked (张*丰)."""
    if style == "full" or len(name) < 2:
        return name
    if style == "mask_given":
        return name[0] + "*" * max(1, len(name) - 2) + (name[-1] if len(name) > 2 else "")
    raise LedgerError(f"[reports] name_display must be 'full' or 'mask_given', not {style!r}",
                      code="invalid_choice", field="name_display", value=repr(style),
                      allowed=["full", "mask_given"])


def _line_status(line_events, transfer, decision, before) -> tuple[str, bool]:
    """(status text, counts toward the amount) for one line as of `before`: its own roll events
    (oldest first), the transfer that paid it and that transfer's approval, each recorded
    before `before` (or None)."""
    state = previous = "open"
    for e in line_events:
        if e.log_index < before:
            previous, state = state, {
                RollEventKind.OBJECTION: "held", RollEventKind.OBJECTION_DISMISSED: "open",
                RollEventKind.LINE_WITHDRAWN: "withdrawn"}.get(e.kind, state)
    if state == "withdrawn":
        # upheld objection, or a clerk's withdrawal (撤销) of a line never objected to
        return ("异议成立，已撤销" if previous == "held" else "已撤销"), False
    if decision is not None and decision.decision is Decision.APPROVED:
        return f"已发放 {transfer.effective_date.isoformat()}", True
    if decision is not None:
        return "银行退票，待重发", True
    if state == "held":
        return "有异议，暂缓发放", True
    return ("已送银行" if transfer is not None else "待发放"), True


# A village's lines are read with a few IN (...) statements rather than several statements a
# line (a 74-line roll took ~250 statements, most of its notice's database time); chunked so
# that no statement binds more parameters than SQLite's oldest limit (999).
_CHUNK = 500


def _in_chunks(session, stmt_for, keys):
    keys = list(dict.fromkeys(keys))
    for start in range(0, len(keys), _CHUNK):
        yield from session.execute(stmt_for(keys[start:start + _CHUNK])).all()


def _line_terms(roll, line, standards) -> tuple[str, int | None, str, str]:
    """(item, standard in fen, quantity with its unit, the standard as the notice states it)
    of one line: the roll's item and standard for a line of the first form, the line's own
    (and the basis of its standards-table row) otherwise."""
    if line.quantity_centi is None:
        return (roll.item, roll.standard_fen, str(line.quantity),
                f"{format_yuan(roll.standard_fen)} 元")
    row = standards.get(line.standard_id)
    basis = row.basis if row is not None else ""
    quantity = format_quantity(line.quantity_centi) + (f" {basis}" if basis else "")
    if line.standard_fen is None:
        return line.item, None, quantity, f"{line.item} 按县核定金额"
    tier = "监测户" if line.tier == "monitored" else "一般户"
    per_unit = f"/{basis}" if basis else ""
    return (line.item, line.standard_fen, quantity,
            f"{line.item}（{tier}）{format_yuan(line.standard_fen)} 元{per_unit}")


def _head_ids(session, household_codes, before) -> dict[str, Member]:
    """The head (户主) of each household as registered before `before`: its first such member."""
    heads: dict[str, Member] = {}
    for (member,) in _in_chunks(session, lambda chunk: select(Member).where(
            Member.household_code.in_(chunk), Member.relation == "户主",
            Member.log_index < before).order_by(Member.id), household_codes):
        heads.setdefault(member.household_code, member)
    return heads


def _line_facts(session, roll, lines, before):
    """Everything the lines' statuses and numbers need, read in bulk: the roll's events (all,
    and by line), each line's transfer and its approval (recorded before `before`), the cards
    and members the lines name, and the heads of their households."""
    events = list(session.execute(select(RollEvent).where(RollEvent.roll_id == roll.id)
                                  .order_by(RollEvent.id)).scalars())
    events_by_line: dict[int, list] = defaultdict(list)
    for event in events:
        events_by_line[event.line_id].append(event)
    keys = {f"roll:{roll.code}:{line.line_no}": line.id for line, _ in lines}
    transfers = {keys[t.idempotency_key]: t for (t,) in _in_chunks(
        session, lambda chunk: select(Transfer).where(Transfer.idempotency_key.in_(chunk),
                                                      Transfer.log_index < before), keys)}
    decisions = {a.transfer_id: a for (a,) in _in_chunks(
        session, lambda chunk: select(Approval).where(Approval.transfer_id.in_(chunk),
                                                      Approval.log_index < before),
        [t.id for t in transfers.values()])}
    cards = {c.id: c for (c,) in _in_chunks(
        session, lambda chunk: select(Card).where(Card.id.in_(chunk)),
        [line.card_id for line, _ in lines if line.card_id is not None])}
    members = {m.id: m for (m,) in _in_chunks(
        session, lambda chunk: select(Member).where(Member.id.in_(chunk)),
        [line.member_id for line, _ in lines if line.member_id is not None])}
    heads = _head_ids(session, [h.code for line, h in lines if line.member_id is None], before)
    return events, events_by_line, transfers, decisions, cards, members, heads


def roll_notice(session: Session, vault, roll_code: str, village_code: str,
                display_from: dt.date, display_to: dt.date, before: int,
                name_style: str = "full") -> dict:
    roll = session.execute(select(PaymentRoll).where(PaymentRoll.code == roll_code,
                                                     PaymentRoll.log_index < before)) \
        .scalar_one_or_none()
    if roll is None:
        raise LedgerError(f"payment roll {roll_code!r} does not exist", code="not_found",
                          what="roll", key=roll_code)
    lines = session.execute(
        select(RollLine, Household).join(Household, Household.code == RollLine.household_code)
        .where(RollLine.roll_id == roll.id, Household.village_code == village_code)
        .order_by(RollLine.line_no)).all()
    if not lines:
        raise LedgerError(f"roll {roll_code} has no household in village {village_code}",
                          code="roll_not_in_village", roll=roll_code, village=village_code)
    events, events_by_line, transfers, decisions, cards, members, heads = \
        _line_facts(session, roll, lines, before)
    standards = standards_by_id(session, (line.standard_id for line, _ in lines))
    rows, total, kinds = [], 0, {}
    for line, household in lines:
        transfer = transfers.get(line.id)
        status, counts = _line_status(events_by_line.get(line.id, ()), transfer,
                                      decisions.get(transfer.id) if transfer else None, before)
        amount = line.amount_fen if counts else 0
        total += amount
        if line.card_id is not None:   # the card of the register the line pays (a student's)
            card = mask(vault.decrypt(cards[line.card_id].account), 6, 4)
        else:
            card = mask(vault.decrypt(household.bank_card), 6, 4) if household.bank_card else "—"
        item, standard, quantity, label = _line_terms(roll, line, standards)
        kinds.setdefault(label, None)
        # A per-person line (雨露计划 for a student) names the person it pays, with the head
        # beside it, so two members of one household do not read as the head paid twice.
        if line.member_id is not None:
            member = members[line.member_id]
            name = (f"{display_name(member.name, name_style)}"
                    f"（户主 {display_name(household.head_name, name_style)}）")
            id_text = mask(vault.decrypt(member.id_number), 4, 4)
        else:
            name = display_name(household.head_name, name_style)
            head = heads.get(household.code)
            id_text = mask(vault.decrypt(head.id_number), 4, 4) if head else "—"
        # The roll's own line number, so a complaint can name the line (R-2024-01:3).
        rows.append([str(line.line_no), name, id_text, card, item,
                     format_yuan(standard) if standard else "—", quantity, format_yuan(amount),
                     status])
    county = region_name(session, roll.county_code)
    village = region_name(session, village_code)
    households = len({household.code for _line, household in lines})
    fields = [
        ["补助项目", roll.item], ["清册编号", roll.code],
        ["补助标准", "；".join(kinds) + "（金额 = 标准 × 数量）"],
        ["本村户数", f"{households} 户"], ["本村合计", amount_text(total)],
        ["公示期", f"{date_text(display_from)} 至 {date_text(display_to)}"],
        *_backdated_publication(session, events, before),
        ["监督举报电话", supervision_phones(session, village_code, before)],
        ["异议和投诉", f"对某户有异议，请写明清册编号和序号（如 {roll.code}:"
                      f"{lines[0][0].line_no}），拨打监督举报电话或向村委会反映"],
        ["发布单位", f"{county}人民政府 {village}村民委员会"],
        ["发布日期", date_text(display_from)],
    ]
    return {"title": f"{village}{roll.item}发放公示",
            "fields": fields,
            "tables": [{"heading": "发放清册",
                        "header": ["序号", "户主姓名", "身份证号", "银行卡号", "补助项目",
                                   "标准（元）", "数量", "金额（元）", "状态"],
                        "rows": rows}]}


def _backdated_publication(session, events, before: int) -> list[list[str]]:
    """The notice's marks of a publication recorded after the date typed for it (补记公示): the
    board's date, the day the server recorded it, the reason (or that none was given); and of
    an approval recorded before the window counted from that recording had passed (公示期未满
    即审核), as its approval event says. Only a publication recorded as backdated (its comment
    is not the plain "公示": every backdated one since they are marked) is marked, so that a
    notice printed before is recomputed unchanged."""
    event = next((e for e in events if e.kind is RollEventKind.PUBLISHED
                  and e.log_index < before), None)
    if event is None or event.comment == PUBLISHED_COMMENT:
        return []
    recorded = recorded_on(session, event)
    if event.effective_date >= recorded:
        return []
    reason = event.comment if event.comment != BACKDATED_NO_REASON else "未说明理由"
    marks = [["补记公示", f"公示日期 {date_text(event.effective_date)} 系补记，"
                          f"{date_text(recorded)} 录入系统；理由：{reason} / backdated "
                          f"publication, recorded on {recorded.isoformat()}"]]
    approval = next((e for e in events if e.kind is RollEventKind.APPROVED
                     and e.log_index < before), None)
    if approval is not None and approval.comment.startswith(EARLY_APPROVAL):
        marks.append(["审核", f"{approval.comment} / approved before the publicity window, "
                             "counted from the recording, had passed"])
    return marks


# ----------------------------------------------------------------------------- county annual

def _year_range(year: int):
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def county_sources(session: Session, county: str, year: int, before: int) -> list[tuple]:
    """(level, fen): money that reached the county's own accounts in the year (appropriations
    at the county and allocations from above), less reversals, by the lot's source level."""
    original = aliased(Transfer)
    first, last = _year_range(year)
    kinds = (TransferKind.APPROPRIATE, TransferKind.ALLOCATE)
    stmt = (select(FundLot.source_level, func.sum(Posting.amount_fen))
            .join(Account, Posting.account_id == Account.id)
            .join(Transfer, Posting.transfer_id == Transfer.id)
            .join(Approval, _approved_before(before))
            .join(FundLot, FundLot.id == Account.lot_id)
            .outerjoin(original, Transfer.reverses_id == original.id)
            .where(Account.kind == AccountKind.UNIT, Account.holder_code == county,
                   Transfer.effective_date.between(first, last),
                   or_(and_(Transfer.kind.in_(kinds), Posting.amount_fen > 0),
                       and_(original.kind.in_(kinds), Posting.amount_fen < 0)))
            .group_by(FundLot.source_level))
    rows = [(level, int(total)) for level, total in session.execute(stmt) if total]
    return sorted(rows, key=lambda r: LEVEL_ORDER.index(r[0]))


def county_uses(session: Session, county: str, year: int, before: int) -> list[tuple]:
    """(function code, payee region, source kind, source holder, fen) of approved payments
    out of the county in the year, less their approved reversals."""
    original = aliased(Transfer)
    payee_acc, source_acc = aliased(Account), aliased(Account)
    payee_leg, source_leg = aliased(Posting), aliased(Posting)
    first, last = _year_range(year)
    code = func.coalesce(original.function_code, Transfer.function_code)
    stmt = (select(code, payee_acc.region_code, source_acc.kind, source_acc.holder_code,
                   func.sum(payee_leg.amount_fen))
            .select_from(Transfer)
            .join(Approval, _approved_before(before))
            .outerjoin(original, Transfer.reverses_id == original.id)
            .join(payee_leg, payee_leg.transfer_id == Transfer.id)
            .join(payee_acc, and_(payee_acc.id == payee_leg.account_id,
                                  payee_acc.kind == AccountKind.PAYEE))
            .join(source_leg, source_leg.transfer_id == Transfer.id)
            .join(source_acc, and_(source_acc.id == source_leg.account_id,
                                   source_acc.kind.in_([AccountKind.UNIT, AccountKind.PROJECT])))
            .where(func.coalesce(original.region_code, Transfer.region_code) == county,
                   Transfer.effective_date.between(first, last),
                   or_(Transfer.kind == TransferKind.PAY, original.kind == TransferKind.PAY))
            .group_by(code, payee_acc.region_code, source_acc.kind, source_acc.holder_code))
    return [(c, r, k, h, int(t)) for c, r, k, h, t in session.execute(stmt) if t]


def _township_of(session, region_code: str) -> str:
    for code in ancestors(session, region_code):
        region = session.get(Region, code)
        if region is not None and region.level is RegionLevel.TOWNSHIP:
            return region.name
    return "县直（未分到乡镇）"


def _table(heading, header, totals: dict[str, int], keep_order: bool = False) -> dict:
    items = totals.items() if keep_order else sorted(totals.items())
    rows = [[name, format_yuan(fen)] for name, fen in items]
    rows.append(["合计", format_yuan(sum(totals.values()))])
    return {"heading": heading, "header": header, "rows": rows}


def county_annual(session: Session, county: str, year: int, display_from: dt.date,
                  display_to: dt.date, before: int) -> dict:
    region = session.get(Region, county)
    if region is None or region.level is not RegionLevel.COUNTY:
        raise LedgerError(f"{county} is not a county", code="not_a_county", region=county,
                          level=region.level if region is not None else None)
    sources = county_sources(session, county, year, before)
    uses = county_uses(session, county, year, before)
    by_code, by_town, by_type = defaultdict(int), defaultdict(int), defaultdict(int)
    project_codes = {}
    for code, payee_region, kind, holder, fen in uses:
        by_code[f"{code} {function_name(code)}"] += fen
        by_town[_township_of(session, payee_region)] += fen
        if kind is AccountKind.PROJECT:
            if holder not in project_codes:
                project = session.get(Project, holder)
                project_codes[holder] = function_name(project.function_code if project else None)
            by_type[f"项目：{project_codes[holder]}"] += fen
        else:
            by_type["直接补助（不经项目）"] += fen
    received = sum(fen for _, fen in sources)
    spent = sum(by_code.values())
    fields = [
        ["县（市、区）", region.name], ["年度", f"{year}年"],
        ["资金来源合计", amount_text(received)], ["资金使用合计", amount_text(spent)],
        ["结余", amount_text(received - spent)],
        ["公告期", f"{date_text(display_from)} 至 {date_text(display_to)}"],
        ["监督举报电话", supervision_phones(session, county, before)],
        ["发布单位", f"{region.name}财政局"], ["发布日期", date_text(display_from)],
    ]
    level_totals = {LEVEL_NAMES[level]: fen for level, fen in sources}
    return {"title": f"{region.name}{year}年度财政衔接推进乡村振兴补助资金使用情况公告",
            "fields": fields,
            "tables": [
                _table("资金来源（按级次）", ["资金级次", "金额（元）"], level_totals,
                       keep_order=True),
                _table("资金使用（按支出功能分类）", ["功能科目", "金额（元）"], by_code),
                _table("资金使用（按乡镇）", ["乡镇", "金额（元）"], by_town),
                _table("资金使用（按项目类型）", ["项目类型", "金额（元）"], by_type),
            ]}


# ----------------------------------------------------------------------------- household card

STATUS_NAMES = {"registered": "建档立卡贫困户", "exited": "脱贫户（政策不变）",
                "returned": "返贫户", "monitored": "监测对象", "removed": "已清退",
                "cancelled": "已注销"}


def household_payments(session: Session, household_code: str, year: int) -> list[dict]:
    """Approved payments to the household in the year, each with the roll's item and standard
    when it came through a payment roll. Reversed payments show as negative lines."""
    first, last = _year_range(year)
    stmt = (select(Transfer, Posting.amount_fen)
            .join(Approval, _approved_before(2**62))
            .join(Posting, Posting.transfer_id == Transfer.id)
            .join(Account, and_(Account.id == Posting.account_id,
                                Account.kind == AccountKind.PAYEE,
                                Account.holder_code == household_code))
            .where(Transfer.effective_date.between(first, last))
            .order_by(Transfer.effective_date, Transfer.id))
    out = []
    for transfer, amount in session.execute(stmt):
        item, standard = _item_of(session, transfer)
        out.append({"date": transfer.effective_date, "item": item, "standard_fen": standard,
                    "amount_fen": int(amount), "reversal": transfer.reverses_id is not None})
    return out


def _item_of(session: Session, transfer: Transfer) -> tuple[str, int | None]:
    key = transfer.idempotency_key
    if transfer.reverses_id is not None:
        original = session.get(Transfer, transfer.reverses_id)
        item, standard = _item_of(session, original)
        return f"{item}（冲销更正）", standard
    if key.startswith("roll:"):
        code = key[len("roll:"):].rsplit(":", 1)[0]
        roll = session.execute(select(PaymentRoll).where(PaymentRoll.code == code)) \
            .scalar_one_or_none()
        if roll is not None:
            line = session.execute(select(RollLine).where(
                RollLine.roll_id == roll.id,
                RollLine.line_no == int(key.rsplit(":", 1)[1]))).scalar_one_or_none()
            if line is not None and line.quantity_centi is not None:
                return line.item, line.standard_fen
            return roll.item, roll.standard_fen
    if transfer.memo.strip():
        return transfer.memo.split()[0], None
    return function_name(transfer.function_code), None


def household_card(session: Session, vault, household_code: str, year: int) -> dict:
    """The household card (明白卡): given to the household, not posted, so it shows the
    household's own details in full. Same shape as notice content."""
    from ledger.households.registry import current_status
    household = session.get(Household, household_code)
    if household is None:
        raise LedgerError(f"household {household_code!r} does not exist", code="not_found",
                          what="household", key=household_code)
    from ledger.households.changes import member_gone
    members = session.execute(select(Member).where(Member.household_code == household_code)
                              .order_by(Member.id)).scalars().all()
    # Members who died or moved out stay on record (append-only) but are not in the household.
    living = [m for m in members if m.death_date is None and member_gone(session, m.id) is None]
    support = latest_support(session, household_code)
    status = current_status(session, household_code).value
    village = region_name(session, household.village_code)
    county_code = next((c for c in ancestors(session, household.village_code)
                        if session.get(Region, c).level is RegionLevel.COUNTY), None)
    card = f"尾号 {household.bank_card_last4}" if household.bank_card_last4 else "未登记银行卡"
    payments = household_payments(session, household_code, year)
    total = sum(p["amount_fen"] for p in payments)
    fields = [
        ["户主", household.head_name], ["户编码", household.code],
        ["所在村", f"{region_name(session, county_code) if county_code else ''}{village}"],
        ["家庭人口", f"{len(living)} 人"], ["户类别", STATUS_NAMES.get(status, status)],
        ["惠民惠农一卡通", card],
        [f"{year}年享受补助合计", amount_text(total)],
        ["小额信贷", _credit_text(session, household_code)],
        ["帮扶责任人", f"{support.cadre_name}  电话 {support.cadre_phone}" if support
         else "未登记"],
        ["监督电话", (f"村：{support.village_phone}；县：{support.county_phone}；" if support
                  else "") + f"全国扶贫监督举报电话：{SUPERVISION_HOTLINE}"],
    ]
    rows = [[p["date"].isoformat(), p["item"],
             format_yuan(p["standard_fen"]) if p["standard_fen"] is not None else "—",
             format_yuan(p["amount_fen"]), card] for p in payments]
    member_rows = [[m.name, m.relation, vault.decrypt(m.id_number)] for m in living]
    return {"title": f"{year}年度扶贫政策明白卡",
            "fields": fields,
            "tables": [
                {"heading": f"{year}年享受的补助（按日期）",
                 "header": ["日期", "补助项目", "标准（元）", "金额（元）", "发放渠道"],
                 "rows": rows or [["—", "本年度尚无补助发放记录", "—", "—", "—"]]},
                {"heading": "家庭成员（现有）",
                 "header": ["姓名", "与户主关系", "身份证号"], "rows": member_rows},
            ]}


def _credit_text(session: Session, household_code: str) -> str:
    """Each loan with its bank, term and the interest subsidy received
    (ledger.households.credit)."""
    from ledger.households.credit import loans_of
    loans = loans_of(session, household_code)
    if not loans:
        return "未登记小额信贷"
    parts = []
    for loan in loans:
        subsidy = sum(s["amount_fen"] for s in loan["subsidies"])
        parts.append(f"{loan['bank']} 贷款 {format_yuan(loan['principal_fen'])} 元，"
                     f"{loan['start_date']} 至 {loan['term_end']}，"
                     f"已获财政贴息 {format_yuan(subsidy)} 元")
    return "；".join(parts)


def latest_support(session: Session, household_code: str) -> HouseholdSupport | None:
    return session.execute(select(HouseholdSupport)
                           .where(HouseholdSupport.household_code == household_code)
                           .order_by(HouseholdSupport.id.desc()).limit(1)).scalar_one_or_none()
