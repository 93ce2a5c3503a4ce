"""Checking a notice's proof on the server, against the published keys, in plain words.

Accepts what a villager or auditor has: the QR's link (`/v#…`, whose fragment is the
percent-encoded Base45 of the compact proof; ledger.audit.tlog.proofs.proof_link), an older
`/verify?p=` link, the Base45 text itself (RFC 9285), base64 of the compact proof, or the C2SP
tlog-proof text file. This is the server-side check, the fallback for a browser without
JavaScript: the QR's link opens /v, which checks in the browser (web/views/verify.py). The
entry bytes travel in the proof; the leaf hash binds them, so what we show from them is what
the log holds.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ledger.audit.entries import EntryFormatError, decode_entry
from ledger.audit.tlog import merkle, proofs
from ledger.audit.tlog.checkpoint import CheckpointError
from ledger.audit.tlog.policy import Policy, QuorumError, parse_policy
from ledger.core.money import format_yuan

TABLE_NAMES = {
    "roll_lines": "清册行", "payment_rolls": "发放清册", "roll_events": "清册事件",
    "transfers": "转账", "postings": "记账分录", "approvals": "审核", "projects": "项目",
    "project_events": "项目事件", "households": "农户", "payees": "收款人",
    "fund_lots": "资金批次", "accounts": "账户", "regions": "行政区划", "users": "用户",
}


FIELD_NAMES = {
    "code": "编号", "item": "发放项目", "lot_id": "资金批次", "use_code": "用途",
    "function_code": "功能分类", "county_code": "县代码", "standard_fen": "标准",
    "line_no": "行号", "quantity": "数量", "amount_fen": "金额", "household_code": "户编码",
    "name": "名称", "head_name": "户主", "village_code": "村代码", "status": "状态",
    "effective_date": "日期", "kind": "类型", "comment": "说明", "created_by": "创建人（内部编号）",
    "actor_id": "经办人（内部编号）", "roll_id": "清册（内部编号）", "id": "内部编号",
}


@dataclass
class Outcome:
    ok: bool
    message: str
    index: int | None = None
    size: int | None = None
    log_name: str = ""
    witnesses: list[str] = field(default_factory=list)
    cosigned: list[tuple[str, str]] = field(default_factory=list)
    entry: dict | None = None
    rows: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    note: str = ""


def entry_proof(session, index: int) -> proofs.TlogProof | None:
    """Inclusion proof of entry `index` in the newest checkpoint, with the entry as extra;
    None while no signed checkpoint covers it yet."""
    from ledger.audit import checkpoints as cps
    from ledger.audit.log import entry_bytes
    latest = cps.latest(session)
    if latest is None or not 0 <= index < latest.size:
        return None
    entry = entry_bytes(session, index)
    return proofs.build_proof(index, cps.with_cosignatures(session, latest),
                              cps.node_reader(session), extra=entry)


def qr_payload(proof: proofs.TlogProof) -> str:
    """What a notice's QR code carries: Base45 of the compact proof (RFC 9285)."""
    return proofs.base45_encode(proofs.encode_compact(proof))


_PROOFS: OrderedDict[tuple[int, str], proofs.TlogProof] = OrderedDict()
_PROOFS_LOCK = threading.Lock()
PROOF_CACHE_SIZE = 256


def checkpoint_note(session, size: int | None = None) -> tuple[str, int] | None:
    """The newest signed checkpoint of this log (of tree size `size` if given), with every
    cosignature it has gathered, and its size; None if there is none."""
    from sqlalchemy import select

    from ledger.audit import checkpoints as cps
    from ledger.models import Checkpoint
    if size is None:
        row = cps.latest(session)
    else:
        row = session.execute(select(Checkpoint).where(
            Checkpoint.origin == cps.log_origin(session), Checkpoint.size == size)
            .order_by(Checkpoint.id.desc()).limit(1)).scalar_one_or_none()
    return None if row is None else (cps.with_cosignatures(session, row), row.size)


def entry_proof_at(session, index: int, size: int | None = None) -> proofs.TlogProof | None:
    """Inclusion proof of entry `index` (with the entry as extra) against the checkpoint of
    tree size `size` (the newest if None), remembered per process; None if no such signed
    checkpoint covers the entry.

    A proof of an entry against a checkpoint never changes (the log is append-only), so it is
    kept under the entry index and the checkpoint's text with its cosignatures (origin, size,
    root, signatures: a new checkpoint or a new cosignature is a new key).
    """
    from ledger.audit import checkpoints as cps
    from ledger.audit.log import entry_bytes
    found = checkpoint_note(session, size)
    if found is None or not 0 <= index < found[1]:
        return None
    note = found[0]
    key = (index, note)
    with _PROOFS_LOCK:
        if key in _PROOFS:
            _PROOFS.move_to_end(key)
            return _PROOFS[key]
    entry = entry_bytes(session, index)
    proof = proofs.build_proof(index, note, cps.node_reader(session), extra=entry)
    with _PROOFS_LOCK:
        _PROOFS[key] = proof
        while len(_PROOFS) > PROOF_CACHE_SIZE:
            _PROOFS.popitem(last=False)
    return proof


def public_roll(session, index: int):
    """The published payment roll whose creation is log entry `index`, else None.

    Only these entries can be named by number on the public pages (`/verify?entry=N`): they
    are the rolls the village board shows. Any other entry (users, complaints, transfers) is
    for auditors (`/audit/proof/N.txt`), so a guessed number must not open it.
    """
    from sqlalchemy import select

    from ledger.models import PaymentRoll, RollEvent, RollEventKind
    return session.execute(select(PaymentRoll).where(
        PaymentRoll.log_index == index,
        select(RollEvent.id).where(RollEvent.roll_id == PaymentRoll.id,
                                   RollEvent.kind == RollEventKind.PUBLISHED).exists())
    ).scalar_one_or_none()


class PolicyUnreadable(Exception):
    """The configured policy file is there but cannot be read or parsed.

    Nothing signed can be checked against it, so whatever needs it fails closed, as
    `fundtrail verify` exits 2 on the same file: the audit page says the log is not verified
    and why, public checks and the published keys answer 503. It is never read as "no
    policy", which would skip every signature and quorum check."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def load_policy(path: str) -> Policy | None:
    """The policy at `path`, or None when no file is there (nothing published yet, as on the
    command line). A file that is there but unreadable or malformed raises PolicyUnreadable."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:  # a directory, no permission, an I/O error
        raise PolicyUnreadable(path, exc.strerror or type(exc).__name__) from None
    try:
        return parse_policy(data)
    except ValueError as exc:  # PolicyError, and bytes that are not UTF-8
        raise PolicyUnreadable(path, str(exc)) from None


def parse_input(text: str) -> proofs.TlogProof:
    text = (text or "").replace("\r\n", "\n").strip()
    if text.startswith(proofs.HEADER):
        # Pasting loses the note's final newline; the signed text itself is unchanged by it.
        return proofs.decode_text(text + "\n")
    if "#" in text:   # the QR's link: the proof is its fragment (proofs.proof_link)
        text = proofs.link_payload(text)
    elif "://" in text or text.startswith("/") or "?p=" in text:
        values = parse_qs(urlsplit(text).query).get("p")
        if not values:
            raise proofs.ProofFormatError("the link carries no proof (parameter p)")
        text = values[0].strip()
    try:
        return proofs.decode_compact(proofs.base45_decode(text))
    except (ValueError, proofs.ProofFormatError):
        pass
    try:
        return proofs.decode_compact(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise proofs.ProofFormatError("this is neither a QR payload nor a proof file") from None


def check(text: str, policy: Policy | None, session=None) -> Outcome:
    """Check a proof as a villager brings it (QR text, link, pasted proof)."""
    if policy is None:
        return Outcome(False, "服务器尚未公布公钥和策略，无法核验。")
    try:
        proof = parse_input(text)
    except proofs.ProofFormatError as exc:
        return Outcome(False, f"无法识别这段内容：{exc}")
    return check_proof(proof, policy, session)


def check_roll_entry(session, roll, proof: proofs.TlogProof, policy: Policy | None,
                     village: str | None = None) -> Outcome:
    """Check the village page's link to a roll (`/verify?entry=N&size=M`): the proof the
    server built of the roll's creation entry, verified exactly as a pasted one, and then the
    roll's lines as the ledger holds them (and the village page prints them) against the
    lines that entry carries. With `village`, only that village's lines are compared and
    listed (the proof file still carries the whole county's roll)."""
    if policy is None:
        return Outcome(False, "服务器尚未公布公钥和策略，无法核验。")
    outcome = check_proof(proof, policy, session)
    if not outcome.ok or outcome.entry is None:
        return outcome
    from sqlalchemy import select

    from ledger.models import Household, RollLine
    stmt = select(RollLine).where(RollLine.roll_id == roll.id).order_by(RollLine.line_no)
    if village:
        stmt = stmt.join(Household, Household.code == RollLine.household_code) \
            .where(Household.village_code == village)
    lines = session.execute(stmt).scalars().all()
    entry = decode_entry(proof.extra)
    logged = {image.get("id"): image for table, _key, _version, _prev, image in entry["rows"]
              if table == "roll_lines"}
    header = next((image for table, _k, _v, _p, image in entry["rows"]
                   if table == "payment_rolls"), {})
    problems = []
    if header.get("code") != roll.code or header.get("standard_fen") != roll.standard_fen \
            or header.get("item") != roll.item:
        problems.append(f"清册 {roll.code} 的抬头与日志记录不同")
    for line in lines:
        image = logged.get(line.id)
        # item and quantity_centi: lines of the standards table (a null one is not imaged)
        if image is None or (image.get("roll_id"), image.get("line_no"),
                             image.get("household_code"), image.get("quantity"),
                             image.get("amount_fen"), image.get("item"),
                             image.get("quantity_centi")) != (
                                 roll.id, line.line_no, line.household_code, line.quantity,
                                 line.amount_fen, line.item, line.quantity_centi):
            problems.append(f"第 {line.line_no} 行（户编码 {line.household_code}）与日志记录不同")
    if problems:
        outcome.ok = False
        outcome.message = ("签名有效，但数据库中的清册各行与日志记录不一致："
                           + "；".join(problems[:20])
                           + (f"……共 {len(problems)} 处" if len(problems) > 20 else ""))
        return outcome
    where = "本村" if village else "本清册"
    outcome.message += (f" 清册 {roll.code} {where}的 {len(lines)} 行（户编码、数量、金额）"
                        "与这条日志记录逐行一致。")
    if village:
        mine = {line.id for line in lines}
        total = len(logged)
        outcome.rows = [row for row, (table, _k, _v, _p, image) in
                        zip(outcome.rows, entry["rows"])
                        if table != "roll_lines" or image.get("id") in mine]
        outcome.note = (f"全县清册共 {total} 行，这里只列本村的 {len(lines)} 行；"
                        "证明文件含全部各行，可离线核验。")
    return outcome


def check_proof(proof: proofs.TlogProof, policy: Policy, session=None) -> Outcome:
    try:
        verified = proofs.verify_entry_proof(proof, policy)
    except proofs.ProofFormatError as exc:
        return Outcome(False, f"无法识别这段内容：{exc}")
    except QuorumError as exc:
        return Outcome(False, f"签名人数不够（未达到法定签名数）：{exc}")
    except CheckpointError as exc:
        return Outcome(False, f"签名不对，与公布的公钥不符：{exc}")
    except merkle.ProofError as exc:
        return Outcome(False, f"这条记录不在日志中（包含证明不成立）：{exc}")
    outcome = Outcome(True, "核验通过：这条记录在审计日志中，且检查点的签名与公布的公钥一致。",
                      index=verified.index, size=verified.checkpoint.size,
                      log_name=verified.checkpoint.origin,
                      witnesses=sorted(verified.witnesses),
                      cosigned=[(c.name, _when(c.timestamp)) for c in verified.cosignatures])
    try:
        entry = decode_entry(proof.extra)
    except EntryFormatError as exc:
        outcome.message += f"（条目内容无法解读：{exc}）"
        return outcome
    outcome.entry = {"kind": entry["kind"], "actor": entry["actor"],
                     "time": _when(entry["time_us"] // 1_000_000)}
    if entry["kind"] == "notice.publish" and session is not None:
        _check_printed_rows(outcome, proof, policy, session)
    outcome.rows = [(TABLE_NAMES.get(table, table), _fields(image))
                    for table, _key, _version, _prev, image in entry["rows"]]
    return outcome


def _check_printed_rows(outcome: Outcome, proof, policy, session) -> None:
    """A notice's entry commits to a digest of its printed rows: recompute them from the
    ledger (ledger.disclosure.notices.check_qr_payload) and say whether they match."""
    from ledger.disclosure.notices import check_qr_payload
    result = check_qr_payload(qr_payload(proof), policy, session=session)
    if result.ok:
        outcome.message += " 通知上打印的各行与日志承诺的一致。"
    else:
        outcome.ok = False
        outcome.message = ("签名有效，但通知上的各行与日志承诺的不一致或无法核对："
                           + "；".join(result.problems))


def _when(seconds: int) -> str:
    """A log or cosignature time as people read it: Beijing time (FUNDTRAIL_TZ), to the
    second."""
    from ledger.i18n import local_time
    return local_time(dt.datetime.fromtimestamp(seconds, dt.timezone.utc))


def _fields(image: dict) -> list[tuple[str, str]]:
    out = []
    for name, value in image.items():
        if name == "log_index":
            continue
        if isinstance(value, dict) and "sha256" in value:
            value = "（个人信息：日志只存其加密承诺值）"
        elif name.endswith("_fen") and isinstance(value, int):
            value = f"{format_yuan(value)} 元"
        out.append((FIELD_NAMES.get(name, name), str(value)))
    return out
