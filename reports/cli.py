"""`fundtrail report …`: public notices and reports as printable PDFs (docs/reports.md).

Workflow for a public document (the QR proves an entry, so a checkpoint must cover it first):

    fundtrail --as CLERK report publish village-notice --village V --project P
    fundtrail checkpoint sign ; fundtrail checkpoint cosign --key K --state S   (each cosigner)
    fundtrail report village-notice --village V --project P -o notice.pdf

`fundtrail --help` imports this module to show the one line of `report`: what opens the database
or renders a PDF is imported by the commands that need it, not here.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import sys
from pathlib import Path

import click

from ledger.cli.params import emit, load_policy, pass_ctx, to_date
from ledger.core.errors import LedgerError
from ledger.i18n import _

TODAY = dt.date.today().isoformat()
PAPER = click.option("--paper", type=click.Choice(["a4", "a3"]), default="a4",
                     show_default=True, help=_("A4 或 A3，纵向。"))
JSON = click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
CHECKPOINT = click.option("--checkpoint", "checkpoint_size", type=int, default=None,
                          help=_(
                              "对照这个大小的检查点证明（用于逐字节重印早先的纸件）；"
                              "默认用最新的有效检查点。"))


@click.group("report", help=_("公告公示和报表，生成可打印的 PDF。"))
def report():
    """Public notices (公告公示) and reports as printable PDFs."""


# ----------------------------------------------------------------------------- recording

@report.command("project-details", help=_("记录项目公告中账本以外的内容（新记录更正旧的）。"))
@click.argument("project")
@click.option("--village", "villages", multiple=True, required=True,
              help=_("张贴公告的村的代码（可重复）。"))
@click.option("--place", required=True, help=_("项目地点"))
@click.option("--content", required=True, help=_("建设内容及规模"))
@click.option("--standard", required=True, help=_("补助标准"))
@click.option("--start", callback=to_date, required=True, help=_("期间开始，YYYY-MM-DD。"))
@click.option("--end", callback=to_date, required=True, help=_("期间结束，YYYY-MM-DD。"))
@click.option("--implementer", required=True, help=_("实施单位"))
@click.option("--responsible", required=True, help=_("项目责任人"))
@click.option("--targets", required=True, help=_("绩效目标"))
@click.option("--benefit", required=True, help=_("带贫减贫机制：贫困户如何受益。"))
@click.option("--phone", required=True, help=_("本县的监督电话。"))
@click.option("--issuer", required=True, help=_("发布单位。"))
@pass_ctx
def project_details(ctx, project, villages, place, content, standard, start, end, implementer,
                    responsible, targets, benefit, phone, issuer):
    """Record what a project notice prints besides the ledger (a newer record corrects it)."""
    from ledger.disclosure.notices import record_project_details
    with ctx.session() as s:
        row = record_project_details(
            s, ctx.actor(s), project_code=project, village_codes=list(villages), place=place,
            content=content, subsidy_standard=standard, start_date=start, end_date=end,
            implementer=implementer, responsible_person=responsible,
            performance_targets=targets, benefit_mechanism=benefit, supervision_phone=phone,
            issuing_unit=issuer)
    click.echo(_("项目 {project}：公告内容已记录（日志第 {log_index} 条）", project=project,
                 log_index=row.log_index))


@report.command("household-support", help=_("记录明白卡上印的帮扶责任人和电话。"))
@click.argument("household")
@click.option("--cadre", required=True, help=_("帮扶责任人。"))
@click.option("--cadre-phone", required=True)
@click.option("--village-phone", required=True)
@click.option("--county-phone", required=True)
@pass_ctx
def household_support(ctx, household, cadre, cadre_phone, village_phone, county_phone):
    """Record the assistance cadre and phones printed on a household card."""
    from ledger.disclosure.notices import record_household_support
    with ctx.session() as s:
        row = record_household_support(
            s, ctx.actor(s), household_code=household, cadre_name=cadre,
            cadre_phone=cadre_phone, village_phone=village_phone, county_phone=county_phone)
    click.echo(_("农户 {household}：明白卡内容已记录（日志第 {log_index} 条）",
                 household=household, log_index=row.log_index))


@report.command("contact", help=_("记录一个地区的监督举报电话，印在其公告上。"))
@click.option("--region", required=True, help=_("市、县、乡镇或村的代码。"))
@click.option("--office", required=True, help=_("谁接听，例如 长沙县乡村振兴局。"))
@click.option("--phone", required=True)
@pass_ctx
def contact(ctx, region, office, phone):
    """Record a region's supervision phone (监督举报电话), printed on its notices."""
    from ledger.disclosure.notices import record_contact
    with ctx.session() as s:
        row = record_contact(s, ctx.actor(s), region_code=region, office=office, phone=phone)
    click.echo(_("{region} 的监督举报电话已记录（日志第 {log_index} 条）", region=region,
                 log_index=row.log_index))


@report.group("publish", help=_("在审计日志中记录一份公告（第 1 步；然后签署和联署；然后打印）。"))
def publish_group():
    """Record a notice in the audit log (step 1; then sign and cosign; then print)."""


def _published(notice, as_json, what):
    emit({"notice_id": notice.id, "log_index": notice.log_index, "kind": notice.kind.value,
          "subject": notice.subject, "rows_digest": notice.rows_digest,
          "display_from": notice.display_from, "display_to": notice.display_to}, as_json,
         _("{what}已记录为公告 #{id}，日志第 {log_index} 条，公示 {start} 至 {end}。下一步："
           "`fundtrail checkpoint sign`，联署人 `fundtrail checkpoint cosign`，然后打印。",
           what=what, id=notice.id, log_index=notice.log_index, start=notice.display_from,
           end=notice.display_to))


def _publish(ctx, s, kind, subject, start, days=None):
    from ledger.core.pii import PiiVault
    from ledger.disclosure import notices
    from ledger.models.disclosure import NoticeKind
    if kind is NoticeKind.ROLL:
        end = notices.roll_window(start, ctx.settings.roll_publicity_working_days)
    else:
        minimum = ctx.settings.project_notice_days
        end = notices.project_window(start, days or minimum, minimum)
    vault = PiiVault.from_env() if kind is NoticeKind.ROLL else None
    return notices.publish(s, ctx.actor(s), kind, subject, start, end, vault)


def _roll_code(s, roll: str) -> str:
    from sqlalchemy import select

    from ledger.models import PaymentRoll
    found = s.execute(select(PaymentRoll.code).where(PaymentRoll.code == roll)).scalar()
    if found is None and roll.isdigit():
        found = s.execute(select(PaymentRoll.code).where(PaymentRoll.id == int(roll))).scalar()
    if found is None:
        raise LedgerError(_("清册 {roll} 不存在（请给出其编码或编号）", roll=repr(roll)))
    return found


FROM = click.option("--from", "start", callback=to_date, default=TODAY, show_default="today",
                    help=_("第一个公示日。"))
DAYS = click.option("--days", type=int, default=None,
                    help=_("公示天数（默认及最少：[publicity] project_notice_days）。"))


@publish_group.command("village-notice", help=_("记录一个村公示栏的项目公告。"))
@click.option("--village", required=True)
@click.option("--project", required=True)
@FROM
@DAYS
@JSON
@pass_ctx
def publish_village_notice(ctx, village, project, start, days, as_json):
    """Record the project notice for one village's board."""
    from ledger.models.disclosure import NoticeKind
    with ctx.session() as s:
        notice = _publish(ctx, s, NoticeKind.PROJECT, {"project": project, "village": village},
                          start, days)
        _published(notice, as_json, _("{village} 的项目公告 {project} ", project=project,
                                      village=village))


@publish_group.command("payment-roll", help=_(
        "记录一个村的公示清册（在公示栏张贴 [publicity] roll_working_days 个工作日）。"))
@click.option("--village", required=True)
@click.option("--roll", required=True, help=_("清册编码（或编号）。"))
@click.option("--from", "start", callback=to_date, default=None,
              show_default="the roll's publication date (roll publish), else today",
              help=_("第一个公示日。"))
@JSON
@pass_ctx
def publish_payment_roll(ctx, village, roll, start, as_json):
    """Record the board roll of one village ([publicity] roll_working_days on the board)."""
    from ledger.models.disclosure import NoticeKind
    from ledger.rolls.lifecycle import get_roll, publicity
    with ctx.session() as s:
        code = _roll_code(s, roll)
        shown = publicity(s, get_roll(s, code), ctx.settings.roll_publicity_working_days)
        # A backdated publication (补记公示) is displayed from the day it was recorded, which is
        # when its window starts; the notice names the board's earlier date and the reason.
        start = start or (max(shown.posted, shown.recorded) if shown else None) \
            or dt.date.fromisoformat(TODAY)
        subject = {"roll": code, "village": village, "names": ctx.settings.name_display}
        notice = _publish(ctx, s, NoticeKind.ROLL, subject, start)
        _published(notice, as_json, _("{village} 的公示清册 {roll} ", roll=subject["roll"],
                                      village=village))


@publish_group.command("county-annual", help=_("记录县年度资金使用报告。"))
@click.option("--county", required=True)
@click.option("--year", type=int, required=True)
@FROM
@DAYS
@JSON
@pass_ctx
def publish_county_annual(ctx, county, year, start, days, as_json):
    """Record the county annual fund-use report."""
    from ledger.models.disclosure import NoticeKind
    with ctx.session() as s:
        notice = _publish(ctx, s, NoticeKind.COUNTY_ANNUAL,
                          {"county": county, "year": str(year)}, start, days)
        _published(notice, as_json, _("{county} {year} 年度报告", county=county, year=year))


@publish_group.command("county-batch", help=_(
        "记录一个县的全部项目公告和公示清册（以及其年度报告）。"))
@click.option("--county", required=True)
@click.option("--year", type=int, default=None, help=_("同时生成该年度的年度报告。"))
@FROM
@JSON
@pass_ctx
def publish_county_batch(ctx, county, year, start, as_json):
    """Record every project notice and board roll of a county (and its annual report)."""
    from reports.batch import county_targets
    with ctx.session() as s:
        targets = county_targets(s, county, year, ctx.settings.name_display)
        notices = [_publish(ctx, s, t.kind, t.subject, start) for t in _progress(targets)]
    data = [{"notice_id": n.id, "log_index": n.log_index, "subject": n.subject}
            for n in notices]
    emit(data, as_json, _(
        "县 {county} 已记录 {n} 份公告。下一步：`fundtrail checkpoint sign`，联署人 "
        "`fundtrail checkpoint cosign`，然后 `fundtrail report county-batch --county "
        "{county}{year} -o DIR`。", n=len(notices), county=county,
        year=f" --year {year}" if year else ""))


def _progress(items, total=None):
    from tqdm import tqdm
    total = len(items) if total is None else total
    return tqdm(items, unit="份", file=sys.stderr, total=total, disable=not total)


# ----------------------------------------------------------------------------- printing

OUT = click.option("-o", "out", type=click.Path(dir_okay=False), required=True,
                   help=_("要写出的 PDF。"))


def _written(path, pdf, info, as_json):
    Path(path).write_bytes(pdf)
    sha = hashlib.sha256(pdf).hexdigest()
    data = {"file": str(path), "sha256": sha, **info}
    emit(data, as_json, _("已写出 {path}（sha256 {sha}）", path=path, sha=sha)
         + (_("；公告 #{notice_id}，日志第 {log_index} 条，检查点大小 {size}",
              notice_id=info["notice_id"], log_index=info["log_index"],
              size=info["checkpoint_size"]) if "notice_id" in info else "")
         + (_("；哈希已记入第 {entry} 条", entry=info["print_entry"])
            if "print_entry" in info else ""))


def _print_public(ctx, kind, subject, paper, checkpoint_size=None):
    """Render; with --as, also log the PDF's SHA-256 as a `notice.printed` entry."""
    from ledger.disclosure.notices import record_print
    from ledger.models.disclosure import Notice
    from reports.render import render_public
    policy = load_policy(ctx.settings.policy_file)
    with ctx.session() as s:
        pdf, info = render_public(s, kind, subject, policy, paper, ctx.settings.font_file,
                                  checkpoint_size=checkpoint_size,
                                  public_url=ctx.settings.public_url)
        if ctx.username:
            info["print_entry"] = record_print(
                s, ctx.actor(s), s.get(Notice, info["notice_id"]),
                hashlib.sha256(pdf).hexdigest(), paper, info["checkpoint_size"])
    return pdf, info


@report.command("village-notice", help=_("打印村公示栏的项目公告（开工前公示，完工后公告）。"))
@click.option("--village", required=True)
@click.option("--project", required=True)
@OUT
@PAPER
@CHECKPOINT
@JSON
@pass_ctx
def village_notice(ctx, village, project, out, paper, checkpoint_size, as_json):
    """Print the project notice for a village board (公示 before work, 公告 after)."""
    from ledger.models.disclosure import NoticeKind
    pdf, info = _print_public(ctx, NoticeKind.PROJECT, {"project": project, "village": village},
                              paper, checkpoint_size)
    _written(out, pdf, info, as_json)


@report.command("payment-roll", help=_("打印一个村在公示栏张贴的农户补助清册（号码打码）。"))
@click.option("--village", required=True)
@click.option("--roll", required=True, help=_("清册编码（或编号）。"))
@OUT
@PAPER
@CHECKPOINT
@JSON
@pass_ctx
def payment_roll(ctx, village, roll, out, paper, checkpoint_size, as_json):
    """Print a village's household payment roll for the board (numbers masked)."""
    from ledger.models.disclosure import NoticeKind
    with ctx.session() as s:
        code = _roll_code(s, roll)
    pdf, info = _print_public(ctx, NoticeKind.ROLL, {"roll": code, "village": village,
                                                     "names": ctx.settings.name_display}, paper,
                              checkpoint_size)
    _written(out, pdf, info, as_json)


@report.command("county-annual", help=_("打印县年度资金使用报告，含图表和预警列表。"))
@click.option("--county", required=True)
@click.option("--year", type=int, required=True)
@OUT
@PAPER
@CHECKPOINT
@JSON
@pass_ctx
def county_annual(ctx, county, year, out, paper, checkpoint_size, as_json):
    """Print the county annual fund-use report with charts and the alert list."""
    from ledger.models.disclosure import NoticeKind
    pdf, info = _print_public(ctx, NoticeKind.COUNTY_ANNUAL,
                              {"county": county, "year": str(year)}, paper, checkpoint_size)
    _written(out, pdf, info, as_json)


@report.command("household-card", help=_("打印一户的明白卡：给农户本人，不上公示栏。"))
@click.option("--household", required=True)
@click.option("--year", type=int, default=dt.date.today().year, show_default="this year")
@OUT
@PAPER
@JSON
@pass_ctx
def household_card(ctx, household, year, out, paper, as_json):
    """Print a household's card (明白卡): for the household, not for the board."""
    from ledger.core.pii import PiiVault
    from ledger.disclosure.content import household_card as card_content
    from reports.card import household_card_pdf
    vault = PiiVault.from_env()
    with ctx.session() as s:
        content = card_content(s, vault, household, year)
    pdf = household_card_pdf(content, paper, ctx.settings.font_file)
    _written(out, pdf, {"household": household, "year": year}, as_json)


@report.command("visit-cards", help=_(
        "抽中的入户核查样本的核查包：走访名单和每一户抽中农户的明白卡。\n\n"
        "用以将农户所说与账目对照。"))
@click.option("--sample", "sample_id", type=int, required=True)
@click.option("--year", type=int, default=dt.date.today().year, show_default="this year")
@click.option("-o", "out_dir", type=click.Path(file_okay=False), required=True)
@PAPER
@JSON
@pass_ctx
def visit_cards(ctx, sample_id, year, out_dir, paper, as_json):
    """The inspector's visit pack for a drawn field-check sample (入户核查): the visit list and
    each drawn household's card, to compare what the household says with the books."""
    import csv
    import io

    from ledger.core.files import write_private_file
    from ledger.core.pii import PiiVault
    from ledger.disclosure.content import household_card as card_content
    from ledger.imports.bank import safe_cell
    from ledger.oversight import sampling
    from reports.card import household_card_pdf
    vault = PiiVault.from_env()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with ctx.session() as s:
        visits = sampling.visit_list(s, ctx.actor(s), sample_id)  # auditors only
        files = []
        for n, visit in enumerate(_progress(visits), start=1):
            pdf = household_card_pdf(card_content(s, vault, visit["household"], year), paper,
                                     ctx.settings.font_file)
            name = f"visit-{n:03d}-{visit['household']}.pdf"
            # a household card names the head and the household's payments: personal data,
            # written whole or not at all (ledger.core.files)
            write_private_file(out / name, pdf)
            files.append({**visit, "card": name})
    # the visit list, built in memory (a sample is small), then written whole
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["序号", "户编码", "村", "户主", "明白卡", "核查结果"])
    for n, v in enumerate(files, start=1):
        # names come from imports: a cell starting with = + - @ must not run as a formula
        writer.writerow([n, safe_cell(v["household"]), safe_cell(v["village_name"]),
                         safe_cell(v["head"]), v["card"],
                         "" if v["result"] == "not visited" else v["result"]])
    write_private_file(out / "visits.csv", buffer.getvalue().encode("utf-8-sig"))
    emit({"sample": sample_id, "dir": str(out), "visits": files}, as_json,
         _("{n} 张明白卡和 visits.csv 已写入 {out}", n=len(files), out=out))


@report.command("county-batch", help=_(
        "将一个县已公示的每份公告打印到 DIR，附 SHA256SUMS。\n\n"
        "有任何一份不能打印（未公示，或尚无联署检查点涵盖它）时退出码为 1。"))
@click.option("--county", required=True)
@click.option("--year", type=int, default=None, help=_("同时生成该年度的年度报告。"))
@click.option("-o", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              show_default=_("处理器核数，至多 4 个"),
              help=_("用这么多个进程生成（各有自己的数据库连接）；生成的文件相同。"))
@PAPER
@JSON
@pass_ctx
def county_batch(ctx, county, year, out_dir, jobs, paper, as_json):
    """Print every published notice of a county into DIR, with SHA256SUMS; exit 1 if any
    could not be printed (not published, or no cosigned checkpoint covers it yet)."""
    from reports.batch import (
        county_targets,
        default_jobs,
        print_targets,
        sweep_leftovers,
        write_whole,
    )
    settings = ctx.settings
    policy = load_policy(settings.policy_file)  # a bad file stops here, not in a worker
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(out)
    with ctx.session() as s:
        targets = county_targets(s, county, year, settings.name_display)
        engine = s.get_bind()
    # The printing sessions are the workers' own (read-only); this command's connections are
    # closed first, so that no forked worker holds a copy of one.
    engine.dispose()
    policy_bytes = Path(settings.policy_file).read_bytes() if policy is not None else None
    written, problems = [], []
    with print_targets(targets, jobs or default_jobs(), settings.database_url, policy_bytes,
                       settings.log_origin, paper, settings.font_file, settings.public_url,
                       out) as results:
        for result in _progress(results, len(targets)):
            (problems if "problem" in result else written).append(result)
    write_whole(out / "SHA256SUMS",
                "".join(f"{w['sha256']}  {w['file']}\n" for w in written).encode("utf-8"))
    lines = [_("{n} 份文件已写入 {out}", n=len(written), out=out)]
    lines += [_("未打印 {file}：{problem}", file=p["file"], problem=p["problem"])
              for p in problems]
    emit({"written": written, "problems": problems}, as_json, "\n".join(lines))
    if problems:
        raise click.exceptions.Exit(1)


# ----------------------------------------------------------------------------- checking

@report.command("check-qr", help=_(
        "核对公告的二维码文本：策略下的证明，以及与账本对照的各行。\n\n"
        "两者都成立时退出码为 0，否则为 1。"))
@click.argument("payload", required=False)
@click.option("--file", "payload_file", type=click.Path(exists=True, dir_okay=False),
              help=_("含二维码文本的文件（例如 zbarimg --raw 的输出）。"))
@click.option("--policy", "policy_file", default=None, help=_("策略文件（默认取自配置）。"))
@click.option("--offline", is_flag=True, help=_("只核对证明，不核对各行。"))
@JSON
@pass_ctx
def check_qr(ctx, payload, payload_file, policy_file, offline, as_json):
    """Check a notice's QR text: the proof under the policy, and the rows against the ledger.
    Exit 0 if both hold, 1 if not."""
    from ledger.disclosure.notices import check_qr_payload
    if bool(payload) == bool(payload_file):
        raise click.UsageError(_("请给出二维码文本或 --file，二者之一"))
    text = Path(payload_file).read_text(encoding="utf-8") if payload_file else payload
    path = policy_file or ctx.settings.policy_file
    policy = load_policy(path)
    if policy is None:
        raise LedgerError(_("{path} 处没有策略文件：需要公布的密钥", path=path))
    if offline:
        result = check_qr_payload(text, policy)
    else:
        with ctx.session() as s:
            result = check_qr_payload(text, policy, session=s)
    data = {k: v for k, v in result.__dict__.items() if k != "content"} | {"ok": result.ok}
    if result.ok:
        message = _("已核验：公告 {subject} 是 {origin} 的日志第 {index} 条（检查点大小 {size}，"
                    "联署人 {witnesses}），各行与账本一致", subject=result.subject,
                    index=result.index, origin=result.origin, size=result.size,
                    witnesses=", ".join(result.witnesses) or _("无人"))
    elif result.proof_verified and result.rows_match is None and not result.problems:
        message = _("证明已核验：{origin} 的日志第 {index} 条，公告 {subject}，各行摘要 {digest}"
                    "（未核对各行）", index=result.index, origin=result.origin,
                    subject=result.subject, digest=result.rows_digest)
    else:
        message = _("未核验：{problems}", problems="; ".join(result.problems))
    emit(data, as_json, message)
    if not result.ok and not (offline and result.proof_verified and not result.problems):
        raise click.exceptions.Exit(1)
