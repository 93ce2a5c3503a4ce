"""`fundtrail complaint …` and `fundtrail sample …`: oversight by the public and by inspectors."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import click

from ledger.cli.params import emit, load_policy, pass_ctx, to_date
from ledger.core.errors import LedgerError
from ledger.core.files import write_private_file
from ledger.core.pii import PiiVault
from ledger.i18n import N_, _
from ledger.models.oversight import ComplaintChannel, ComplaintSubject, SampleStrata, VisitOutcome
from ledger.oversight import complaints, sampling

TODAY = dt.date.today().isoformat()


# A visit's outcome as `sample visit` confirms it in Chinese (English: the option's word).
OUTCOMES = {"confirmed": N_("属实"), "discrepancy": N_("不符")}


def _chinese() -> bool:
    from ledger.i18n import DEFAULT_LOCALE, current_locale
    return current_locale() == DEFAULT_LOCALE


def _complaint_state(value: str) -> str:
    if not _chinese():
        return value
    from ledger.i18n.labels import label
    return label(value, "ComplaintState")


def _found(found: bool) -> None:
    if found:
        raise click.exceptions.Exit(1)


# ----------------------------------------------------------------------------- complaints

@click.group("complaint", help=_("信访投诉：登记、凭回执查询、办理、统计。"))
def complaint_group():
    """Complaints (信访投诉): file, follow by receipt, handle, count."""


@complaint_group.command("file", help=_("登记一件投诉并打印回执号。不用 --as 时：由群众提交。"))
@click.option("--channel", type=click.Choice([c.value for c in ComplaintChannel]),
              required=True)
@click.option("--about", "kind", type=click.Choice([k.value for k in ComplaintSubject]),
              required=True, help=_("投诉所涉事项。"))
@click.option("--code", required=True,
              help=_("公告上印的编码（清册行：ROLL-CODE:行号）。"))
@click.option("--summary", required=True, help=_("问题是什么，用投诉人自己的话。"))
@click.option("--name", default=None, help=_("投诉人姓名（不填：匿名）。"))
@click.option("--phone", default=None, help=_("投诉人电话，用于答复。"))
@click.option("--date", "received_on", callback=to_date, default=None,
              help=_("收到日期（电话和来信；默认今天）。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def complaint_file(ctx, channel, kind, code, summary, name, phone, received_on, as_json):
    """Record a complaint and print its receipt number. Without --as: filed by the public."""
    if phone and not name:
        raise click.UsageError(_("--phone 需要 --name：匿名投诉没有电话"))
    vault = PiiVault.from_env()
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        receipt = complaints.file_complaint(
            s, ComplaintChannel(channel), ComplaintSubject(kind), code, summary, vault=vault,
            complainant={"name": name, "phone": phone} if name else None, actor=actor,
            received_on=received_on, close_days=ctx.settings.complaint_close_days,
            answer_days=ctx.settings.complaint_answer_days)
        status = complaints.complaint_status_public(s, receipt)
    emit(status, as_json, _("回执号 {receipt}（请记下，凭它查询办理进度；办结期限 {due}）",
                            receipt=status["receipt"], due=status["close_due"]))


@complaint_group.command("status", help=_("凭回执号查询投诉进展（无需登录；不显示姓名）。"))
@click.argument("receipt")
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def complaint_status(ctx, receipt, as_json):
    """Progress of a complaint by its receipt number (no login; no names)."""
    with ctx.session() as s:
        status = complaints.complaint_status_public(s, receipt)
    lines = [_("回执号 {receipt}：{state}", receipt=status["receipt"], state=status["state"]),
             _("{received} 收到，办理单位 {handled_by}，办结期限 {due}",
               received=status["received_on"], handled_by=status["handled_by"],
               due=status["close_due"])
             + (_("（已超期）") if status["overdue"] else "")]
    if status["reply"]:
        lines.append(_("{day} 答复：{reply}", day=status["answered_on"], reply=status["reply"]))
    if status["closed_on"]:
        lines.append(_("{day} 办结：", day=status["closed_on"])
                     + (_("反映属实") if status["substantiated"] else _("反映不属实")))
    emit(status, as_json, "\n".join(lines))


def _step_command(name, help_text, run, extra_params=()):
    params = [click.argument("complaint_id", type=int),
              click.option("--date", "day", callback=to_date, default=TODAY,
                           help=_("发生日期，YYYY-MM-DD（默认今天）。")),
              click.option("--note", default=None, help=_("内部备注（加密保存）。")),
              *extra_params]

    @pass_ctx
    def command(ctx, complaint_id, day, note, **extra):
        vault = PiiVault.from_env() if note else None
        with ctx.session() as s:
            run(s, ctx.actor(s), complaint_id, day, note=note, vault=vault, **extra)
        click.echo(_("投诉 {id}：已记录 {step}", id=complaint_id, step=name))
    for p in reversed(params):
        command = p(command)
    complaint_group.command(name, help=help_text)(command)


_step_command("assign", _("指定办理案件的承办人（本单位的审核人）。"),
              lambda s, a, cid, day, to, **kw: complaints.assign(s, a, cid, to, day, **kw),
              [click.option("--to", required=True, help=_("承办人的用户名。"))])
_step_command("investigate", _("承办人开始调查。"),
              lambda s, a, cid, day, **kw: complaints.investigate(s, a, cid, day, **kw))
_step_command("answer", _("答复投诉人（答复随回执显示）。"),
              lambda s, a, cid, day, reply, **kw: complaints.answer(s, a, cid, day, reply, **kw),
              [click.option("--reply", required=True, help=_("答复；其中不写姓名。"))])
_step_command("close", _("办结案件，附其结论。"),
              lambda s, a, cid, day, substantiated, **kw:
              complaints.close(s, a, cid, day, substantiated, **kw),
              [click.option("--substantiated/--unsubstantiated", required=True)])


@complaint_group.command("list", help=_("本单位办理或监督的案件（不显示身份）。"))
@click.option("--state", type=click.Choice(["received", "assigned", "investigating",
                                            "answered", "closed"]), default=None)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def complaint_list(ctx, state, as_json):
    """Cases your unit handles or oversees (no identities)."""
    with ctx.session() as s:
        rows = complaints.list_complaints(s, ctx.actor(s), state)
    text = "\n".join(_("{id:>5}  {state:<13} {kind}:{code}  办结期限 {due}  办理单位 {region}",
                       id=r["id"], state=_complaint_state(r["state"]), kind=r["subject_kind"],
                       code=r["subject_code"], due=r["close_due"],
                       region=r["handling_region"])
                     for r in rows) or _("没有投诉")
    emit(rows, as_json, text)


@complaint_group.command("show", help=_("案卷；投诉人只对承办人和审计人员显示。"))
@click.argument("complaint_id", type=int)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def complaint_show(ctx, complaint_id, as_json):
    """The case file; who complained is shown only to its officer and to auditors."""
    vault = PiiVault.from_env()
    with ctx.session() as s:
        data = complaints.complaint_detail(s, ctx.actor(s), complaint_id, vault)
    who = data.get("complainant")
    lines = [f"complaint {data['id']} ({data['state']}), {data['subject_kind']} "
             f"{data['subject_code']}, received {data['received_on']} by {data['channel']}",
             f"summary: {data['summary']}",
             "complainant: " + (f"{who['name']} {who['phone'] or ''}".strip() if who and
                                who["named"] else "anonymous" if who else "(withheld)")]
    lines += [f"  {st['date']} {st['step']}" + (f"  reply: {st['reply']}" if st["reply"] else "")
              + (f"  note: {st['note']}" if st["note"] else "") for st in data["steps"]]
    emit(data, as_json, "\n".join(lines))


@complaint_group.command("overdue", help=_("超过期限的投诉（规则 G6）；有则退出码为 1。"))
@click.option("--as-of", callback=to_date, default=TODAY)
@click.option("--include-late", is_flag=True, help=_("也列出已满足期限但迟办的。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def complaint_overdue(ctx, as_of, include_late, as_json):
    """Complaints past their deadline (rule G6); exit 1 if any."""
    with ctx.session() as s:
        rows = complaints.overdue_complaints(s, as_of, include_late)
    emit(rows, as_json, "\n".join(
        _("投诉 {id}（{region}）：{kind}期限为 {due}，已超 {days} 天", id=r["id"],
          region=r["region"], kind=r["deadline_kind"], due=r["due"], days=r["days_overdue"])
        for r in rows) or _("没有超期"))
    _found(bool(rows))


@complaint_group.command("substantiated", help=_("已办结且查实的投诉（用于开立滥用预警）。"))
@click.option("--county", default=None)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def complaint_substantiated(ctx, county, as_json):
    """Closed complaints found substantiated (to open misuse alerts)."""
    with ctx.session() as s:
        rows = complaints.substantiated_complaints(s, county)
    emit(rows, as_json, "\n".join(
        _("投诉 {id}：{kind} {code}，{closed} 办结", id=r["id"], kind=r["subject_kind"],
          code=r["subject_code"], closed=r["closed_on"])
        for r in rows) or _("无"))


@complaint_group.command("stats", help=_("一个县的公开数字：收到、按时答复、查实。"))
@click.option("--county", required=True)
@click.option("--year", type=click.IntRange(2000, 2100), default=None)
@click.option("--as-of", callback=to_date, default=TODAY)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def complaint_stats(ctx, county, year, as_of, as_json):
    """Public numbers for a county: received, answered on time, substantiated."""
    with ctx.session() as s:
        data = complaints.complaint_stats(s, county, year, as_of)
    emit(data, as_json, _(
        "{name}（{county}）{year}：收到 {received} 件，答复 {answered} 件（按时 {answered_on_time} "
        "件），办结 {closed} 件（按时 {closed_on_time} 件），查实 {substantiated} 件，"
        "{open_overdue} 件超期未结", name=data["county_name"], county=county,
        year=" " + str(year) if year else "", received=data["received"],
        answered=data["answered"], answered_on_time=data["answered_on_time"],
        closed=data["closed"], closed_on_time=data["closed_on_time"],
        substantiated=data["substantiated"], open_overdue=data["open_overdue"]))


# ----------------------------------------------------------------------------- samples

@click.group("sample", help=_("无人能挑选的入户核查样本：承诺、抽取、走访、核实。"))
def sample_group():
    """Field-check samples (入户核查) nobody can choose: commit, draw, visit, verify."""


def _risk_codes(path: str | None) -> set[str]:
    if not path:
        return set()
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(_("{path}：无法读取风险文件：{exc}", path=path, exc=exc)) from None
    codes = {line.split(",")[0].strip() for line in lines}
    return {c for c in codes if c and not c.startswith("#")} - {"household_code", "户编码"}


@sample_group.command("commit", help=_("在随机数产生之前，将抽样框和样本量固定在审计日志中。"))
@click.option("--county", required=True)
@click.option("--size", type=int, required=True)
@click.option("--strata", type=click.Choice([s.value for s in SampleStrata]), default="village",
              show_default=True)
@click.option("--risk-file", type=click.Path(dir_okay=False), default=None,
              help=_("预警涉及的户编码，每行一个（提高权重）。"))
@click.option("--beacon", "beacon_name", default=None,
              help=_(
                  "策略中的一位见证者：其对抽取检查点的联署被混入种子，使日志运营方无法预知样本。"))
@click.option("--policy", "policy_file", default=None, help=_("策略文件（默认取自配置）。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def sample_commit(ctx, county, size, strata, risk_file, beacon_name, policy_file, as_json):
    """Fix the frame and the size in the audit log, before the randomness exists."""
    beacon = None
    if beacon_name:
        policy = _policy(ctx, policy_file)
        if policy is None or beacon_name not in policy.witnesses:
            raise LedgerError(_("--beacon {name}：不是策略文件中的见证者", name=beacon_name))
        beacon = {"witness": beacon_name,
                  "vkey": policy.witnesses[beacon_name].verifier.vkey}
    with ctx.session() as s:
        row = sampling.commit_sample(s, ctx.actor(s), county_code=county, size=size,
                                     strata=SampleStrata(strata), risk_codes=_risk_codes(risk_file),
                                     risk_weight=ctx.settings.sample_risk_weight, beacon=beacon,
                                     policy_text=_policy_text(ctx, policy_file))
    data = {"id": row.id, "log_index": row.log_index, "frame_digest": row.frame_digest,
            "size": row.size}
    emit(data, as_json, _("样本 {id} 已承诺于日志第 {log_index} 条（抽样框 {frame}…）；接下来 "
                          "`fundtrail checkpoint sign`，然后 `fundtrail sample draw {id}`",
                          id=row.id, log_index=row.log_index, frame=row.frame_digest[:16]))


def _policy(ctx, path):
        return load_policy(path or ctx.settings.policy_file)


def _policy_text(ctx, path) -> bytes | None:
    """The policy file's bytes (default: the configured one, if it exists)."""
    path = Path(path or ctx.settings.policy_file)
    return path.read_bytes() if path.exists() else None


@sample_group.command("draw", help=_("依据承诺之后的第一个检查点抽取农户。"))
@click.argument("commitment_id", type=int)
@click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False),
              default=None, help=_("你预期抽取所用的检查点（会核对）。"))
@click.option("--policy", "policy_file", default=None, help=_("策略文件（默认取自配置）。"))
@pass_ctx
def sample_draw(ctx, commitment_id, checkpoint_file, policy_file):
    """Draw the households from the first checkpoint after the commitment."""
    note = Path(checkpoint_file).read_text(encoding="utf-8") if checkpoint_file else None
    with ctx.session() as s:
        row = sampling.draw_sample(s, ctx.actor(s), commitment_id,
                                   policy_text=_policy_text(ctx, policy_file),
                                   checkpoint_note=note)
    click.echo(_("样本 {id}：依据检查点 {size} 抽取 {n} 户（`fundtrail sample visits {id}`）",
                 id=commitment_id, n=len(row.households), size=row.checkpoint_size))


@sample_group.command("visits", help=_("走访名单：农户、村、户主、目前的结果。"))
@click.argument("commitment_id", type=int)
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), default=None,
              help=_("同时将走访名单写成 CSV（UTF-8 带 BOM，可用 Excel/WPS 打开）。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def sample_visits(ctx, commitment_id, csv_file, as_json):
    """The visit list: household, village, head, result so far."""
    with ctx.session() as s:
        rows = sampling.visit_list(s, ctx.actor(s), commitment_id)
    if csv_file:
        # the households to visit, with their heads' names: personal data, written whole or
        # not at all (ledger.core.files)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["household"])
        writer.writeheader()
        writer.writerows(rows)
        write_private_file(csv_file, buffer.getvalue().encode("utf-8-sig"))
    text = "\n".join(f"{r['stratum']:<22} {r['household']:<14} {r['village_name']} "
                     f"{r['head']}  [{r['result']}]" for r in rows)
    emit(rows, as_json, text + "\n" + _("走访所用的明白卡由报表模块的明白卡报表生成。"))


@sample_group.command("visit", help=_("记录走访一户抽中农户的结果。"))
@click.argument("commitment_id", type=int)
@click.option("--household", required=True)
@click.option("--confirmed", "outcome", flag_value="confirmed")
@click.option("--discrepancy", "outcome", flag_value="discrepancy")
@click.option("--details", default="", help=_("不符之处（发现不符时必填）。"))
@click.option("--date", "day", callback=to_date, default=TODAY,
              help=_("发生日期，YYYY-MM-DD（默认今天）。"))
@pass_ctx
def sample_visit(ctx, commitment_id, household, outcome, details, day):
    """Record the result of visiting a drawn household."""
    if outcome is None:
        raise click.UsageError(_("请指明 --confirmed 或 --discrepancy"))
    with ctx.session() as s:
        sampling.record_visit(s, ctx.actor(s), commitment_id, household,
                              outcome=VisitOutcome(outcome), details=details, visited_on=day)
    click.echo(_("样本 {id}：{household} {outcome}", id=commitment_id, household=household,
                 outcome=_(OUTCOMES[outcome]) if _chinese() else outcome))


@sample_group.command("discrepancies", help=_("走访发现不符的农户；有则退出码为 1。"))
@click.option("--county", default=None)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def sample_discrepancies(ctx, county, as_json):
    """Households where the visit found a discrepancy; exit 1 if any."""
    with ctx.session() as s:
        rows = sampling.discrepancies(s, county)
    emit(rows, as_json, "\n".join(
        _("样本 {sample} {household}（{day}）：{details}", sample=r["sample"],
          household=r["household"], day=r["visited_on"], details=r["details"])
        for r in rows) or _("没有不符"))
    _found(bool(rows))


@sample_group.command("publish", help=_(
        "写出 frame.json 和 checkpoint.txt：任何人重算样本所需的全部。\n\n"
        "走访完成后再公布：它们列出了要走访的农户。"))
@click.argument("commitment_id", type=int)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@pass_ctx
def sample_publish(ctx, commitment_id, out_dir):
    """Write frame.json and checkpoint.txt: all anyone needs to recompute the sample.

    Publish them when the visits are done: they name the households to be visited.
    """
    with ctx.session() as s:
        frame, note = sampling.published(s, ctx.actor(s), commitment_id)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "frame.json").write_bytes(frame.encode("utf-8"))
    (out / "checkpoint.txt").write_text(note, encoding="utf-8")
    click.echo(_("已写出 {frame} 和 {note}；核对：`python -m ledger.oversight.sampling_verify "
                 "{frame} {note}`", frame=out / "frame.json", note=out / "checkpoint.txt"))


@sample_group.command("verify", help=_("依据公布的抽样框和检查点重算样本。"))
@click.option("--frame", "frame_file", type=click.Path(exists=True, dir_okay=False),
              required=True)
@click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False),
              required=True)
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
              default=None, help=_("用此策略核对检查点的签名。"))
@click.option("--id", "commitment_id", type=int, default=None,
              help=_("同时与账本中记录的抽取比较（不同则退出码为 1）。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def sample_verify(ctx, frame_file, checkpoint_file, policy_file, commitment_id, as_json):
    """Recompute a sample from the published frame and checkpoint."""
    from ledger.oversight.sampling_verify import SampleError, recompute
    try:
        seed, visits = recompute(
            Path(frame_file).read_bytes(), Path(checkpoint_file).read_text(encoding="utf-8"),
            Path(policy_file).read_text(encoding="utf-8") if policy_file else None)
    except SampleError as exc:
        raise LedgerError(str(exc)) from None
    same = None
    if commitment_id is not None:
        with ctx.session() as s:
            drawn = sampling.get_draw(s, commitment_id)
            same = drawn.households == [[v["stratum"], v["household"]] for v in visits]
    signed = policy_file is not None
    data = {"seed": seed.hex(), "visits": visits, "matches_ledger": same,
            "signatures_checked": signed}
    text = "\n".join([_("种子 {seed}", seed=seed.hex())]
                     + [f"{v['stratum']}\t{v['rank']}\t{v['household']}" for v in visits])
    if same is not None:
        text += "\n" + (_("与账本中的抽取一致") if same else _("与账本中的抽取不一致"))
    if not signed:
        text += "\n" + _("未核验：没有 --policy，检查点的签名未经核对")
    emit(data, as_json, text)
    _found(same is False or not signed)
