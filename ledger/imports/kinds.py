"""Every kind of file `fundtrail import` and the web's import page take, in one table.

The command line (ledger.cli.imports) and the web (web.views.imports) both offer exactly these
kinds and call `run_import`; neither keeps a list of its own, so a new kind is added here once.
A kind says what it needs beyond the file: the personal-data vault (ID numbers, cards) and, for
lists and registers drawn from another office's system, the issuing source and the snapshot date
the list was drawn (an alert built on it names both).

A kind also carries what a finance officer reads before choosing a file: its group on the web's
import page (`GROUPS`), a short Chinese description, the columns its reader checks (the reader's
own `Column` list, not a copy) and one example row, fictional and valid, from which the web
builds the downloadable templates (web/views/imports.py). docs/formats.md describes the same
columns at length; tests/ledger/test_import_kinds.py fails when it misses one of them.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.i18n import N_
from ledger.imports import (
    cards,
    external,
    household_status,
    households,
    member_history,
    movements,
    payee_registers,
    payees,
    project_notices,
    reference,
    standards,
)
from ledger.imports.cards import import_cards
from ledger.imports.csvfile import Column
from ledger.imports.household_status import import_household_status
from ledger.imports.households import import_households, import_members
from ledger.imports.member_history import import_member_history
from ledger.imports.movements import (
    allocation_keys,
    import_allocations,
    import_payments,
    import_project_funding,
    payment_keys,
    project_funding_keys,
)
from ledger.imports.payees import import_payees
from ledger.imports.project_notices import import_project_notices
from ledger.imports.reference import (
    appropriation_keys,
    import_appropriations,
    import_projects,
    import_regions,
)
from ledger.imports.standards import import_standards
from ledger.models import User
from ledger.models.registers import ListKind, RegisterKind


@dataclass(frozen=True)
class ImportKind:
    name: str                  # what `fundtrail import NAME` and the web form say
    label: str                 # what a finance officer reads (Chinese)
    run: Callable              # (session, actor, vault, path, **extra) -> result
    needs_vault: bool = False  # the file carries personal data (encrypted at rest)
    needs_source: bool = False  # --source and --snapshot: another office's list or register
    # Kinds whose lines record transfers (pending approval): path -> [(line, idempotency key,
    # amount in fen, date)], so that an approver can approve what a file recorded
    # (ledger.imports.approvals).
    transfer_keys: Callable | None = None
    group: str = ""            # its group on the web's import page: one of GROUPS
    about: str = ""            # one or two Chinese sentences: what the file is, who sends it
    columns: tuple[Column, ...] = ()   # the reader's own columns, in the order a template has
    # One fictional, valid line (column key -> cell text), the templates' example row: it
    # imports as it stands once the reference data it names exists (test_import_templates).
    example: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def header(self) -> list[str]:
        """The header row a template carries: each column's first (Chinese) name."""
        return [c.headers[0] for c in self.columns]

    @property
    def example_row(self) -> list[str]:
        return [self.example.get(c.key, "") for c in self.columns]


# The groups of the web's import page, in the order it lists them.
HOUSEHOLDS, MONEY, PROJECTS, REFERENCE, LISTS, REGISTERS = GROUPS = (
    N_("农户"), N_("资金"), N_("项目与收款人"), N_("基础资料"), N_("外部比对名单"),
    N_("资金去向登记"))

# Column header texts that hold a person's number (ID, card, account, phone): masked wherever a
# file's cells are shown back (the web's preview), as staff pages mask them.
_PERSONAL_HEADER = re.compile(r"(^|_)(id_number|card|phone)$|(^|_)account(_number)?$")


def is_personal(column: Column) -> bool:
    return any(_PERSONAL_HEADER.search(h) for h in column.headers)


def _kind(name, label, run, **flags) -> tuple[str, ImportKind]:
    flags["columns"] = tuple(flags.get("columns", ()))
    return name, ImportKind(name, label, run, **flags)


_LIST_LABELS = {
    ListKind.DEATHS: N_("死亡人口名单"), ListKind.PAYROLL: N_("财政供养人员名单"),
    ListKind.VEHICLES: N_("机动车登记"), ListKind.BUSINESSES: N_("市场主体登记"),
    ListKind.OFFICIALS: N_("干部及近亲属"), ListKind.BLACKLIST: N_("违规违纪黑名单"),
    ListKind.PROPERTIES: N_("不动产登记"),
}
_REGISTER_LABELS = {
    RegisterKind.APPROVED_PAYEES: N_("项目中标/合同单位"),
    RegisterKind.PAYEE_ACCOUNTS: N_("收款账户"),
    RegisterKind.UNIT_RECEIPTS: N_("单位账户来款流水"),
}
_LIST_ABOUT = {
    ListKind.DEATHS: N_("民政、公安等部门的死亡人员名单，用于发现向已故人员发放的补助。"),
    ListKind.PAYROLL: N_("财政供养人员名单，用于发现财政供养人员享受补助。"),
    ListKind.VEHICLES: N_("机动车登记信息，用于发现拥有非农用车辆的农户。"),
    ListKind.BUSINESSES: N_("市场主体登记中的法定代表人、股东和高管，每人每家企业一行，用于比对"
                            "农户和收款人。"),
    ListKind.OFFICIALS: N_("干部本人及其近亲属，每人一行，用于发现优亲厚友。"),
    ListKind.BLACKLIST: N_("违规违纪的单位和个人，支付给名单上的收款人会被拒绝或预警。"),
    ListKind.PROPERTIES: N_("不动产登记信息，每套房产每个权利人一行，用于发现拥有城镇住房的农户。"),
}
_REGISTER_ABOUT = {
    RegisterKind.APPROVED_PAYEES: N_("项目的中标或合同单位（含合同金额和付款期数），付给名单外单位"
                                     "的项目款会被预警。"),
    RegisterKind.PAYEE_ACCOUNTS: N_("收款人的收款账户，对公款项付入个人账户会被预警；账号只保留"
                                    "后四位。"),
    RegisterKind.UNIT_RECEIPTS: N_("单位或个人账户的来款流水，用于发现资金回流。"),
}
# Fictional people and firms of 长沙县 (430121): ID numbers and credit codes with their right
# check characters, so that every template's example row is valid.
_LIST_EXAMPLES = {
    ListKind.DEATHS: {"id_number": "43012119581103001X", "name": "张三",
                      "date_from": "2024-03-01"},
    ListKind.PAYROLL: {"id_number": "430121197509200048", "name": "李四", "org": "县教育局",
                       "category": "事业编制", "date_from": "2019-09-01"},
    ListKind.VEHICLES: {"id_number": "430121196507120031", "name": "王五",
                        "category": "小型轿车", "org_code": "湘A12345",
                        "date_from": "2022-01-05", "status": "正常"},
    ListKind.BUSINESSES: {"org": "星沙建筑有限公司", "org_code": "91430121MA4L000023",
                          "id_number": "430121197001010315", "name": "赵六",
                          "category": "法定代表人", "date_from": "2015-04-01",
                          "industry_code": "E4810"},
    ListKind.OFFICIALS: {"id_number": "43012119820315002X", "name": "孙七", "category": "本人",
                         "org": "镇党委书记", "region_code": "430121001",
                         "date_from": "2021-01-01"},
    ListKind.BLACKLIST: {"name": "某某劳务有限公司", "org_code": "91430121MA4L000036",
                         "org": "围标串标", "date_from": "2024-01-01",
                         "date_to": "2025-12-31"},
    ListKind.PROPERTIES: {"id_number": "430121197001010315", "name": "赵六",
                          "category": "城镇住宅", "org": "长沙县星沙街道开元路12号3栋402",
                          "org_code": "湘(2021)长沙县不动产权第0012345号",
                          "region_code": "430121", "date_from": "2021-06-01"},
}
_REGISTER_EXAMPLES = {
    RegisterKind.APPROVED_PAYEES: {
        "project_code": "XM-2024-01", "payee_name": "星沙农业开发有限公司",
        "credit_code": "91430121MA4L000010", "approved_on": "2024-03-01",
        "until": "2024-12-31", "basis": "中标通知书 长县招〔2024〕7号",
        "contract_number": "HT-2024-07", "contract_amount_fen": "1,200,000.00",
        "instalments": "3"},
    RegisterKind.PAYEE_ACCOUNTS: {
        "payee_name": "星沙农业开发有限公司", "personal": "对公",
        "account_last4": "4305 0186 3600 0000 1234", "bank": "长沙农商银行",
        "holder_name": "星沙农业开发有限公司"},
    RegisterKind.UNIT_RECEIPTS: {
        "received_on": "2024-07-20", "amount_fen": "9,000.00", "payer_name": "星沙农业开发有限公司",
        "receiver_name": "长沙县财政局", "receiver_region": "430121", "memo": "追回多付工程款",
        "voucher": "B20240720001"},
}
# The lot, project and payee the money kinds' examples name are those the examples of
# `appropriations`, `projects` and `payees` create: the templates import in this order.
_LOT = "湘财农指〔2024〕5号"
_HOUSEHOLD = "H430121001001-00012"

KINDS: dict[str, ImportKind] = dict([
    _kind("households", N_("建档立卡户"), import_households, needs_vault=True, group=HOUSEHOLDS,
          about=N_("建档立卡户：户编码、所在村、户主、户状态和识别日期；银行卡号和电话加密保存。"),
          columns=households.HOUSEHOLD_COLUMNS,
          example={"code": _HOUSEHOLD, "village": "430121001001", "head_name": "赵大明",
                   "status": "建档立卡", "registered_on": "2019-05-01",
                   "bank_card": "6222021234567890123", "phone": "13800001111"}),
    _kind("members", N_("家庭成员"), import_members, needs_vault=True, group=HOUSEHOLDS,
          about=N_("已导入农户的家庭成员，每人一行；出生日期和性别取自身份证号。"),
          columns=households.MEMBER_COLUMNS,
          example={"household": _HOUSEHOLD, "name": "赵小红", "relation": "女",
                   "id_number": "430121201005050225"}),
    _kind("member_history", N_("家庭成员变动"), import_member_history, needs_vault=True,
          group=HOUSEHOLDS,
          about=N_("已导入成员的加入、迁出、死亡、分户，每件事一行。"),
          columns=member_history.COLUMNS,
          example={"household": _HOUSEHOLD, "id_number": "430121201005050225",
                   "event": "加入", "date": "2010-05-05", "reason": "出生"}),
    _kind("household_status", N_("户状态变更"), import_household_status, group=HOUSEHOLDS,
          about=N_("户状态的历次变更（脱贫、返贫、监测、清退等），每次一行，含日期和文号。"),
          columns=household_status.COLUMNS,
          example={"household": _HOUSEHOLD, "status": "已脱贫", "date": "2020-12-20",
                   "reason": "2020年脱贫验收", "doc_number": "湘扶〔2020〕9号"}),
    _kind("cards", N_("银行卡（户卡、个人卡、监护人卡）"), import_cards, needs_vault=True,
          group=HOUSEHOLDS,
          about=N_("户卡、个人卡、监护人卡的开卡、换卡和销户，每张卡一行；卡号加密保存。"),
          columns=cards.COLUMNS,
          example={"household": _HOUSEHOLD, "kind": "个人卡", "member": "430121201005050225",
                   "bank": "长沙农商银行", "account": "6230000000000012",
                   "opened_on": "2023-09-01"}),
    _kind("appropriations", N_("资金文件（指标）"), import_appropriations, group=MONEY,
          transfer_keys=appropriation_keys,
          about=N_("上级下达的资金文件（指标）：每行开一个资金批次并记录下达，待另一人审核。"),
          columns=reference.APPROPRIATION_COLUMNS,
          example={"doc": _LOT, "source": "中央", "year": "2024",
                   "title": "衔接推进乡村振兴补助资金", "function_codes": "2130505;2130504",
                   "uses": "industry;infrastructure", "amount": "2,400,000.00",
                   "region": "430000", "date": "2024-02-01"}),
    _kind("allocations", N_("资金下达拨付"), import_allocations, transfer_keys=allocation_keys,
          group=MONEY,
          about=N_("资金批次下达拨付到下一级，每行一笔，待另一人审核；凭证号是这笔转账的编号。"),
          columns=movements.ALLOCATION_COLUMNS,
          example={"lot": _LOT, "from": "430000", "to": "430100", "amount": "600,000.00",
                   "date": "2024-03-01", "voucher": "湘财农〔2024〕101号", "memo": "切块到市"}),
    _kind("project_funding", N_("项目资金安排"), import_project_funding, group=MONEY,
          transfer_keys=project_funding_keys,
          about=N_("县级资金安排到本县已批复的项目，每行一笔，待另一人审核。"),
          columns=movements.PROJECT_FUNDING_COLUMNS,
          example={"lot": _LOT, "project": "XM-2024-01", "amount": "200,000.00",
                   "date": "2024-04-01", "voucher": "长财农〔2024〕21号",
                   "memo": "蔬菜大棚项目资金"}),
    _kind("payments", N_("资金支付（项目支出、直接支付）"), import_payments, group=MONEY,
          transfer_keys=payment_keys,
          about=N_("从项目资金（项目编码）或县级资金（县代码，二选一）付给已登记的收款人，每行一笔，"
                   "待另一人审核。"),
          columns=movements.PAYMENT_COLUMNS,
          example={"lot": _LOT, "project": "XM-2024-01", "payee": "QY43012101",
                   "amount": "78,000.00", "function_code": "2130505", "use": "industry",
                   "date": "2024-06-30", "voucher": "长财付〔2024〕0412号",
                   "memo": "大棚建设工程款", "invoice": "04412300123456",
                   "contract": "HT-2024-07"}),
    _kind("projects", N_("项目库"), import_projects, group=PROJECTS,
          about=N_("项目库：申报、入库或不予立项；批复及以后的环节须逐个办理，不能导入。"),
          columns=reference.PROJECT_COLUMNS,
          example={"code": "XM-2024-01", "name": "蔬菜大棚", "county": "430121",
                   "function_code": "2130505", "stage": "入库", "date": "2024-01-10",
                   "doc": "长县振〔2024〕2号", "proposed_on": "2023-11-20",
                   "proposal_doc": "星沙镇〔2023〕9号", "implementing_unit": "星沙镇人民政府"}),
    _kind("project_notices", N_("项目公示公告"), import_project_notices, group=PROJECTS,
          about=N_("已张贴的项目公示、公告台账：每次张贴一行，含起止日期、地点和发布单位。"),
          columns=project_notices.COLUMNS,
          example={"project": "XM-2024-01", "region": "430121001001", "kind": "公示",
                   "display_from": "2024-03-06", "display_to": "2024-03-15",
                   "place": "松雅村村务公开栏", "issuer": "松雅村村民委员会",
                   "doc_number": "星政公〔2024〕3号", "title": "松雅村2024年蔬菜大棚项目公示"}),
    _kind("payees", N_("收款人名录（企业、个人、单位）"), import_payees, needs_vault=True,
          group=PROJECTS,
          about=N_("企业、个人和单位收款人，每个一行；企业和单位填统一社会信用代码，个人填身份证号。"
                   "农户不在这里导入。"),
          columns=payees.COLUMNS,
          example={"code": "QY43012101", "name": "星沙农业开发有限公司", "kind": "企业",
                   "region": "430121", "credit_code": "91430121MA4L000010"}),
    _kind("regions", N_("行政区划"), import_regions, group=REFERENCE,
          about=N_("省、市、县、乡镇、村的区划代码及上级；上级须在前面的行或已导入。由管理员导入。"),
          columns=reference.REGION_COLUMNS,
          example={"code": "430121001002", "name": "新塘村", "level": "村",
                   "parent": "430121001"}),
    _kind("standards", N_("补助标准"), import_standards, group=REFERENCE,
          about=N_("各县各补助项目、户类别和年度的补助标准，清册按此计算金额。"),
          columns=standards.STANDARD_COLUMNS,
          example={"county": "430121", "item": "产业奖补", "tier": "一般户", "year": "2024",
                   "standard": "500.00", "basis": "户", "per": "按户",
                   "function_code": "2130505", "effective_date": "2024-01-10",
                   "doc_number": "县农发〔2024〕3号"}),
    *(_kind(k.value, _LIST_LABELS[k], partial(external.import_list, k), needs_vault=True,
            needs_source=True, group=LISTS, about=_LIST_ABOUT[k],
            columns=external.COLUMNS[k], example=_LIST_EXAMPLES[k]) for k in ListKind),
    *(_kind(k.value, _REGISTER_LABELS[k], partial(payee_registers.import_register, k),
            needs_vault=True, needs_source=True, group=REGISTERS, about=_REGISTER_ABOUT[k],
            columns=payee_registers.COLUMNS[k], example=_REGISTER_EXAMPLES[k])
      for k in RegisterKind),
])


class MissingImportDetail(LedgerError):
    """A list or register was imported without its source or snapshot date."""

    code = "import_detail_missing"

    def __init__(self, kind: str):
        super().__init__(f"an external list ({kind}) needs --source and --snapshot", kind=kind)
        self.kind = kind


def run_import(session: Session, actor: User, kind: str, path, *, vault: PiiVault | None = None,
               source: str | None = None, snapshot: dt.date | None = None):
    """Import `path` as `kind`, all or nothing. The caller commits."""
    spec = KINDS[kind]
    if spec.needs_vault and vault is None:
        raise LedgerError(f"importing {kind} needs the personal-data keys (FUNDTRAIL_PII_KEYS)",
                          code="import_needs_pii_keys", kind=kind)
    if spec.needs_source:
        if not source or snapshot is None:
            raise MissingImportDetail(kind)
        return spec.run(session, actor, vault, path, source=source, snapshot=snapshot)
    return spec.run(session, actor, vault, path)
