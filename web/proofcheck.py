"""Checking a notice's proof on the server, against the published keys, in plain words.

Accepts what a villager or auditor has: the verification URL from the QR code (its `p`
parameter), the QR text itself (Base45 of the compact proof, RFC 9285), base64 of the compact
proof, or the C2SP tlog-proof text file. The entry bytes travel in the proof; the leaf hash
binds them, so what we show from them is what the log holds.
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

from ledger.audit import merkle, proofs
from ledger.audit.checkpoint import CheckpointError
from ledger.audit.entries import EntryFormatError, decode_entry
from ledger.audit.policy import Policy, PolicyError, QuorumError, parse_policy
from ledger.money import format_yuan

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


def entry_proof(session, index: int) -> proofs.TlogProof | None:
    """Inclusion proof of entry `index` in the newest checkpoint, with the entry as extra;
    None while no signed checkpoint covers it yet."""
    from ledger.audit import checkpoints as cps
    from ledger.models import AuditEntry
    latest = cps.latest(session)
    if latest is None or not 0 <= index < latest.size:
        return None
    entry = bytes(session.get(AuditEntry, index).entry)
    return proofs.build_proof(index, cps.with_cosignatures(session, latest),
                              cps.node_reader(session), extra=entry)


def qr_payload(proof: proofs.TlogProof) -> str:
    """What a notice's QR code carries: Base45 of the compact proof (RFC 9285)."""
    return proofs.base45_encode(proofs.encode_compact(proof))


_PAYLOADS: OrderedDict[tuple[int, str], str] = OrderedDict()
_PAYLOADS_LOCK = threading.Lock()
PAYLOAD_CACHE_SIZE = 256


def entry_qr_payload(session, index: int) -> str | None:
    """`qr_payload(entry_proof(session, index))`, remembered per process.

    A proof of entry `index` against a checkpoint never changes (the log is append-only), so
    the payload is kept under the entry index and the checkpoint's text with its cosignatures
    (origin, size, root, signatures: a new checkpoint or a new cosignature is a new key). The
    public village page shows one per roll on every request; building the proof and
    Base45-encoding a roll's entry (tens of kB) was most of its time.
    """
    from ledger.audit import checkpoints as cps
    latest = cps.latest(session)
    if latest is None or not 0 <= index < latest.size:
        return None
    key = (index, cps.with_cosignatures(session, latest))
    with _PAYLOADS_LOCK:
        if key in _PAYLOADS:
            _PAYLOADS.move_to_end(key)
            return _PAYLOADS[key]
    proof = entry_proof(session, index)
    payload = None if proof is None else qr_payload(proof)
    if payload is not None:
        with _PAYLOADS_LOCK:
            _PAYLOADS[key] = payload
            while len(_PAYLOADS) > PAYLOAD_CACHE_SIZE:
                _PAYLOADS.popitem(last=False)
    return payload


def load_policy(path: str) -> Policy | None:
    p = Path(path)
    if not p.exists():
        return None
    try:
        return parse_policy(p.read_bytes())
    except PolicyError:
        return None


def parse_input(text: str) -> proofs.TlogProof:
    text = (text or "").replace("\r\n", "\n").strip()
    if text.startswith(proofs.HEADER):
        # Pasting loses the note's final newline; the signed text itself is unchanged by it.
        return proofs.decode_text(text + "\n")
    if "://" in text or text.startswith("/") or "?p=" in text:
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
    if policy is None:
        return Outcome(False, "服务器尚未公布公钥和策略，无法核验。")
    try:
        proof = parse_input(text)
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
    ledger (ledger.notices.check_qr_payload) and say whether they match."""
    from ledger.notices import check_qr_payload
    result = check_qr_payload(qr_payload(proof), policy, session=session)
    if result.ok:
        outcome.message += " 通知上打印的各行与日志承诺的一致。"
    else:
        outcome.ok = False
        outcome.message = ("签名有效，但通知上的各行与日志承诺的不一致或无法核对："
                           + "；".join(result.problems))


def _when(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


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
