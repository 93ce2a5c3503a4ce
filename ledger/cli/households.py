"""`fundtrail household …`: a registered household's life after registration."""
from __future__ import annotations

import click

from ledger.cli.params import emit, pass_ctx, to_date
from ledger.core.pii import PiiVault
from ledger.households import changes as hc
from ledger.imports.households import parse_status


def _status(_ctx, _param, value):
    try:
        return parse_status(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group("household")
def household_group():
    """Status changes, deaths, moves, splits (分户) and merges (合户) of households."""


@household_group.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def show(ctx, code, as_json):
    """A household: status history, members (ID numbers masked), splits and merges."""
    with ctx.session() as s:
        view = hc.household_view(s, ctx.actor(s) if ctx.username else None,
                                 PiiVault.from_env(), code)
    lines = [f"{view['code']} {view['head']} (village {view['village']}): {view['status']}"]
    lines += [f"  {h['date']} {h['status']:<10} {h['reason']}" for h in view["history"]]
    lines += [f"  member #{m['id']:<5} {m['name']:<6} {m['relation']:<4} "
              f"{m['id_number_masked']}  {m['left']}" for m in view["members"]]
    lines += [f"  {link['kind']} {link['from']} → {link['to']} on {link['date']}"
              for link in view["links"]]
    emit(view, as_json, "\n".join(lines))


@household_group.command("add-member")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--relation", required=True, help="与户主关系: 户主, 配偶, 子, 女, … 其他.")
@click.option("--id-number", prompt="身份证号 (ID number)", hide_input=True,
              help="18 characters, or a legacy 15-digit number (kept as registered). Leave it "
                   "out to be asked for it: typed on the command line, a number stays in the "
                   "shell's history and in the process list.")
@click.option("--death-date", callback=to_date, default=None)
@click.option("--json", "as_json", is_flag=True)
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
         f"household {code}: member #{member_id} {name} added")


@household_group.command("status")
@click.argument("code")
@click.argument("status", callback=_status, metavar="STATUS")
@click.option("--date", "day", callback=to_date, required=True)
@click.option("--reason", required=True, help="Why, or the document that decided it.")
@pass_ctx
def status(ctx, code, status, day, reason):
    """Record a new status: 已脱贫/exited, 返贫/returned, 监测对象/monitored, 清退/removed,
    注销/cancelled."""
    with ctx.session() as s:
        hc.change_status(s, ctx.actor(s), code, status, day, reason)
    click.echo(f"household {code}: {status.value} from {day}")


@household_group.command("died")
@click.argument("member_id", type=int)
@click.option("--date", "day", callback=to_date, required=True)
@click.option("--reason", default="")
@pass_ctx
def died(ctx, member_id, day, reason):
    """Record that a member died (payments to them after this date raise BEN-01)."""
    with ctx.session() as s:
        hc.record_death(s, ctx.actor(s), member_id, day, reason)
    click.echo(f"member #{member_id}: died on {day}")


@household_group.command("move")
@click.argument("member_id", type=int)
@click.option("--to", "to_household", default=None,
              help="The registered household they join (omit if they leave the registry).")
@click.option("--relation", default="其他", help="Relation to the new head.")
@click.option("--date", "day", callback=to_date, required=True)
@click.option("--reason", required=True)
@pass_ctx
def move(ctx, member_id, to_household, relation, day, reason):
    """A member leaves the household (marriage, move), possibly into another one."""
    with ctx.session() as s:
        hc.move_member(s, ctx.actor(s), PiiVault.from_env(), member_id,
                       to_household=to_household, effective_date=day, reason=reason,
                       relation=relation)
    click.echo(f"member #{member_id}: moved out on {day}"
               + (f" into {to_household}" if to_household else ""))


@household_group.command("split")
@click.argument("from_code")
@click.option("--new", "new_code", required=True, help="Code of the new household.")
@click.option("--member", "member_ids", type=int, multiple=True, required=True)
@click.option("--head", "head_id", type=int, required=True, help="Member id of the new head.")
@click.option("--bank-card", default=None)
@click.option("--date", "day", callback=to_date, required=True)
@click.option("--reason", required=True)
@pass_ctx
def split(ctx, from_code, new_code, member_ids, head_id, bank_card, day, reason):
    """分户: some members of FROM_CODE form a new household."""
    with ctx.session() as s:
        hc.split_household(s, ctx.actor(s), PiiVault.from_env(), from_code=from_code,
                           new_code=new_code, member_ids=list(member_ids),
                           head_member_id=head_id, effective_date=day, reason=reason,
                           bank_card=bank_card)
    click.echo(f"household {new_code} split from {from_code} on {day} "
               f"({len(member_ids)} members)")


@household_group.command("merge")
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
    click.echo(f"household {from_code} merged into {into_code} on {day} (cancelled)")
