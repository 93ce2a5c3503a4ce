"""`fundtrail household …`: a registered household's life after registration."""
from __future__ import annotations

import click

from ledger.cli.params import emit, pass_ctx, to_date
from ledger.core.pii import PiiVault
from ledger.households import changes as hc
from ledger.i18n import _
from ledger.imports.households import parse_status


def _status(_ctx, _param, value):
    try:
        return parse_status(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group("household", help=_("农户的状态变更、死亡、迁移、分户与合户。"))
def household_group():
    """Status changes, deaths, moves, splits (分户) and merges (合户) of households."""


@household_group.command("show", help=_("一户：状态经过、成员（身份证号打码）、分户与合户。"))
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def show(ctx, code, as_json):
    """A household: status history, members (ID numbers masked), splits and merges."""
    with ctx.session() as s:
        view = hc.household_view(s, ctx.actor(s) if ctx.username else None,
                                 PiiVault.from_env(), code)
    lines = [_("{code} {head}（{village} 村）：{status}", code=view["code"], head=view["head"],
               village=view["village"], status=view["status"] or _("未纳入")),
             _("  建档 {created}，纳入 {enrolled}", created=view["created"],
               enrolled=view["enrolled"] or _("（尚未）"))]
    lines += [f"  {h['date']} {h['status']:<10} {h['reason']}"
              + (f" ({h['doc_number']})" if h["doc_number"] else "") for h in view["history"]]
    lines += [_("  成员 #{id:<5} {name:<6} {relation:<4} {id_number}  {left}", id=m["id"],
                name=m["name"], relation=m["relation"], id_number=m["id_number_masked"],
                left=m["left"]) for m in view["members"]]
    lines += [_("  {kind} {source} → {target}，日期 {date}", kind=link["kind"], source=link["from"],
                target=link["to"], date=link["date"]) for link in view["links"]]
    emit(view, as_json, "\n".join(lines))


@household_group.command("add-member", help=_(
        "逐个录入新成员（出生、婚入）。\n\n"
        "身份证号必须正确，包括校验位，无论 [imports] accept_wrong_check_character 如何设置："
        "该设置只用于批量导入的历史户籍记录（`fundtrail import members`）。"))
@click.argument("code")
@click.option("--name", required=True)
@click.option("--relation", required=True, help=_("与户主关系：户主、配偶、子、女、… 其他。"))
@click.option("--id-number", prompt="身份证号 (ID number)", hide_input=True,
              help=_(
                  "18 位，或旧的 15 位号码（按登记保留）。不填则会提示输入："
                  "在命令行上输入的号码会留在 shell 历史和进程列表中。"))
@click.option("--death-date", callback=to_date, default=None)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def add_member(ctx, code, name, relation, id_number, death_date, as_json):
    """A new member (birth, marriage in) entered one by one. The ID number must be right,
    check character included, whatever [imports] accept_wrong_check_character says: that
    setting is for historical registry records imported in bulk (`fundtrail import members`)."""
    from ledger.households.registry import add_member as add
    with ctx.session() as s:
        member = add(s, ctx.actor(s), PiiVault.from_env(), household_code=code, name=name,
                     relation=relation, id_number=id_number, death_date=death_date)
        member_id = member.id
    emit({"household": code, "member": member_id}, as_json,
         _("农户 {code}：已添加成员 #{member_id} {name}", code=code, member_id=member_id,
           name=name))


@household_group.command("status", help=_(
        "记录新状态：已脱贫/exited、返贫/returned、监测对象/monitored、清退/removed、"
        "注销/cancelled。\n\n"
        "县里过去的状态经过用导入（`import household_status`）。"))
@click.argument("code")
@click.argument("status", callback=_status, metavar="STATUS")
@click.option("--date", "day", callback=to_date, required=True)
@click.option("--reason", required=True, help=_("原因，或作出决定的文件。"))
@click.option("--doc-number", default=None, help=_("作出决定的文件的文号。"))
@pass_ctx
def status(ctx, code, status, day, reason, doc_number):
    """Record a new status: 已脱贫/exited, 返贫/returned, 监测对象/monitored, 清退/removed,
    注销/cancelled. A county's past status history is imported (`import household_status`)."""
    with ctx.session() as s:
        hc.change_status(s, ctx.actor(s), code, status, day, reason, doc_number)
    click.echo(_("农户 {code}：自 {day} 起为 {status}", code=code, status=status.value, day=day))


@household_group.command("died", help=_("记录成员死亡（此日期后付给他的款项会触发 BEN-01）。"))
@click.argument("member_id", type=int)
@click.option("--date", "day", callback=to_date, required=True)
@click.option("--reason", default="")
@pass_ctx
def died(ctx, member_id, day, reason):
    """Record that a member died (payments to them after this date raise BEN-01)."""
    with ctx.session() as s:
        hc.record_death(s, ctx.actor(s), member_id, day, reason)
    click.echo(_("成员 #{member_id}：{day} 死亡", member_id=member_id, day=day))


@household_group.command("move", help=_("成员离开本户（婚出、迁出），可能加入另一户。"))
@click.argument("member_id", type=int)
@click.option("--to", "to_household", default=None,
              help=_("他们加入的已登记户（离开户籍则不填）。"))
@click.option("--relation", default="其他", help=_("与新户主的关系。"))
@click.option("--date", "day", callback=to_date, required=True)
@click.option("--reason", required=True)
@pass_ctx
def move(ctx, member_id, to_household, relation, day, reason):
    """A member leaves the household (marriage, move), possibly into another one."""
    with ctx.session() as s:
        hc.move_member(s, ctx.actor(s), PiiVault.from_env(), member_id,
                       to_household=to_household, effective_date=day, reason=reason,
                       relation=relation)
    click.echo(_("成员 #{member_id}：{day} 迁出", member_id=member_id, day=day)
               + (_("，迁入 {household}", household=to_household) if to_household else ""))


@household_group.command("split", help=_(
        "分户：FROM_CODE 的部分成员于 --date 组成新户。\n\n"
        "新户于 --enrolled-on 纳入，或尚未纳入（--not-enrolled）：须说明是哪种。"))
@click.argument("from_code")
@click.option("--new", "new_code", required=True, help=_("新户的户编码。"))
@click.option("--member", "member_ids", type=int, multiple=True, required=True)
@click.option("--head", "head_id", type=int, required=True, help=_("新户主的成员编号。"))
@click.option("--bank-card", default=None)
@click.option("--date", "day", callback=to_date, required=True,
              help=_("分户日期：新户组成之日。"))
@click.option("--enrolled-on", callback=to_date, default=None,
              help=_("纳入日期：新户纳入之日（当日或之后）。"))
@click.option("--not-enrolled", is_flag=True,
              help=_("新户尚未纳入（之后用 `household enrol`）。"))
@click.option("--reason", required=True)
@pass_ctx
def split(ctx, from_code, new_code, member_ids, head_id, bank_card, day, enrolled_on,
          not_enrolled, reason):
    """分户: some members of FROM_CODE form a new household on --date; it is enrolled on
    --enrolled-on, or not yet (--not-enrolled): say which."""
    if (enrolled_on is None) == (not not_enrolled):
        raise click.UsageError(_("请给出纳入日期（--enrolled-on，分户之日或之后）"
                                 "或 --not-enrolled"))
    with ctx.session() as s:
        hc.split_household(s, ctx.actor(s), PiiVault.from_env(), from_code=from_code,
                           new_code=new_code, member_ids=list(member_ids),
                           head_member_id=head_id, effective_date=day,
                           enrolled_on=enrolled_on, reason=reason, bank_card=bank_card)
    enrolled = _("{day} 纳入", day=enrolled_on) if enrolled_on else _("尚未纳入")
    click.echo(_("农户 {new_code} 于 {day} 从 {from_code} 分出（{n} 名成员），{enrolled}",
                 new_code=new_code, from_code=from_code, day=day, n=len(member_ids),
                 enrolled=enrolled))


@household_group.command("enrol", help=_("纳入：将分户形成、尚未纳入的一户纳入。"))
@click.argument("code")
@click.option("--date", "day", callback=to_date, required=True,
              help=_("纳入日期：在形成该户的分户当日或之后。"))
@click.option("--status", callback=_status, default="建档立卡", metavar="STATUS",
              help=_("纳入时的户状态：建档立卡（默认）、监测对象、…"))
@pass_ctx
def enrol(ctx, code, day, status):
    """纳入: enrol a household formed by a split (分户) and not enrolled yet."""
    from ledger.households.registry import enrol_household
    with ctx.session() as s:
        enrol_household(s, ctx.actor(s), code, status, day)
    click.echo(_("农户 {code} 于 {day} 纳入（{status}）", code=code, day=day, status=status.value))


@household_group.command("merge", help=_("合户：FROM_CODE 的全部成员并入另一户；FROM_CODE 注销。"))
@click.argument("from_code")
@click.option("--into", "into_code", required=True)
@click.option("--date", "day", callback=to_date, required=True)
@click.option("--reason", required=True)
@pass_ctx
def merge(ctx, from_code, into_code, day, reason):
    """合户: every member of FROM_CODE joins another household; FROM_CODE is cancelled."""
    with ctx.session() as s:
        hc.merge_households(s, ctx.actor(s), PiiVault.from_env(), from_code=from_code,
                            into_code=into_code, effective_date=day, reason=reason)
    click.echo(_("农户 {from_code} 于 {day} 并入 {into_code}（已注销）", from_code=from_code,
                 into_code=into_code, day=day))


@click.group("card", help=_("卡册：户卡、个人卡和监护人卡的开户、销户、换卡。"))
def card_group():
    """The card register: household, personal and guardian cards, opened, closed, replaced."""


_ACCOUNT = click.option(
    "--account", prompt="银行卡号 (card number)", hide_input=True,
    help=_(
        "12 到 19 位数字。不填则会提示输入：在命令行上输入的号码会留在 shell 历史和进程列表中。"))


def _kind(_ctx, _param, value):
    from ledger.imports.cards import parse_kind
    try:
        return parse_kind(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@card_group.command("add", help=_("登记一户在某日开户的一张卡。"))
@click.argument("household")
@click.option("--kind", callback=_kind, required=True,
              help=_("户卡（household）、个人卡（personal）或监护人卡（guardian）。"))
@click.option("--member", "member_id", type=int, default=None,
              help=_("成员编号：个人卡属于谁，或监护人卡代领谁的款项。"))
@click.option("--holder-name", default=None, help=_("账户的户名。"))
@click.option("--guardian-member", "guardian_id", type=int, default=None,
              help=_("身为已登记成员的监护人的成员编号。"))
@click.option("--bank", required=True, help=_("开户银行。"))
@_ACCOUNT
@click.option("--opened", "opened_on", callback=to_date, required=True)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def card_add(ctx, household, kind, member_id, holder_name, guardian_id, bank, account,
             opened_on, as_json):
    """Record a card of a household opened on a date."""
    from ledger.households.cards import add_card
    with ctx.session() as s:
        card = add_card(s, ctx.actor(s), PiiVault.from_env(), household_code=household,
                        kind=kind, account=account, bank=bank, opened_on=opened_on,
                        member_id=member_id, holder_name=holder_name,
                        holder_member_id=guardian_id)
        card_id, last4 = card.id, card.account_last4
    emit({"household": household, "card": card_id}, as_json,
         _("农户 {household}：卡 #{card_id}（{kind}，…{last4}）于 {opened_on} 开立",
           household=household, card_id=card_id, kind=kind.value, last4=last4,
           opened_on=opened_on))


@card_group.command("close", help=_("自某日起销户一张卡。"))
@click.argument("card_id", type=int)
@click.option("--date", "day", callback=to_date, required=True,
              help=_("自此日起不再向该卡付款。"))
@click.option("--reason", default="")
@pass_ctx
def card_close(ctx, card_id, day, reason):
    """Close a card (销户) from a date."""
    from ledger.households.cards import close_card
    with ctx.session() as s:
        close_card(s, ctx.actor(s), card_id, day, reason)
    click.echo(_("卡 #{card_id} 自 {day} 起注销", card_id=card_id, day=day))


@card_group.command("replace", help=_("换卡：同一持卡人的新卡；旧卡当日销户。"))
@click.argument("card_id", type=int)
@click.option("--bank", required=True, help=_("新卡的开户银行。"))
@_ACCOUNT
@click.option("--date", "day", callback=to_date, required=True,
              help=_("新卡的开户日期；旧卡于当日销户。"))
@click.option("--reason", default="")
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def card_replace(ctx, card_id, bank, account, day, reason, as_json):
    """Replace a card (换卡): a new card for the same holder; the old one closes that day."""
    from ledger.households.cards import add_card
    from ledger.models import Card
    from ledger.store.db import fetch
    with ctx.session() as s:
        old = fetch(s, Card, card_id, f"card #{card_id}")
        card = add_card(s, ctx.actor(s), PiiVault.from_env(), household_code=old.household_code,
                        kind=old.kind, account=account, bank=bank, opened_on=day,
                        member_id=old.member_id, holder_name=old.holder_name,
                        holder_member_id=old.holder_member_id, replaces_card_id=old.id,
                        reason=reason)
        new_id = card.id
    emit({"replaced": card_id, "card": new_id}, as_json,
         _("卡 #{card_id} 自 {day} 起由卡 #{new_id} 替换", card_id=card_id, new_id=new_id, day=day))


@card_group.command("list", help=_("一户在卡册中的卡（只显示后四位）。"))
@click.argument("household")
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def card_list(ctx, household, as_json):
    """A household's cards in the register (last four digits only)."""
    from ledger.households.cards import household_cards
    from ledger.households.registry import get_household
    from ledger.store.access import Action, require
    with ctx.session() as s:
        require(s, ctx.actor(s), Action.READ, get_household(s, household).village_code)
        rows = [{"card": c.id, "kind": c.kind.value, "member": c.member_id,
                 "holder": c.holder_name, "bank": c.bank, "last4": c.account_last4,
                 "opened": c.opened_on.isoformat(), "replaces": c.replaces_card_id,
                 "closed": k.closed_on.isoformat() if k else None}
                for c, k in household_cards(s, household)]
    emit(rows, as_json, "\n".join(
        _("#{card:<5} {kind:<9} 成员 {member:<5} {holder} {bank} …{last4} 开立 {opened}",
          card=r["card"], kind=r["kind"], member=r["member"] or "-", holder=r["holder"],
          bank=r["bank"], last4=r["last4"], opened=r["opened"])
        + (_(" 注销 {closed}", closed=r["closed"]) if r["closed"] else "") for r in rows)
        or _("农户 {household}：登记簿中没有银行卡", household=household))
