"""`fundtrail project add|advance|file` and `fundtrail payee add`: what money can be spent on,
and who can be paid."""
from __future__ import annotations

import datetime as dt

import click

from ledger.cli.params import pass_ctx, to_date
from ledger.funds import projects
from ledger.i18n import _
from ledger.models import PayeeKind, ProjectStatus


@click.group("project", help=_("县里的项目：申报、推进各阶段、备案。"))
def project_group():
    """Projects of a county: register, move through their stages, file (备案)."""


@project_group.command("add", help=_("在县里登记一个项目，状态为申报。"))
@click.argument("code")
@click.argument("name")
@click.option("--county", required=True)
@click.option("--function-code", required=True)
@click.option("--proposed-on", callback=to_date, default=None,
              help=_("申报日期；默认今天。"))
@click.option("--doc-number", default=None, help=_("申报文号。"))
@click.option("--implementing-unit", default=None,
              help=_("实施单位（承担实施的单位或承包方）。"))
@pass_ctx
def project_add(ctx, code, name, county, function_code, proposed_on, doc_number,
                implementing_unit):
    """Register a project in a county, as proposed (申报)."""
    with ctx.session() as s:
        projects.register_project(s, ctx.actor(s), code=code, name=name, county_code=county,
                                  function_code=function_code, proposed_on=proposed_on,
                                  doc_number=doc_number, implementing_unit=implementing_unit)
    click.echo(_("项目 {code} 已登记", code=code))


DOC_NUMBER = click.option("--doc-number", default=None,
                          help=_("批复文号（如有）。"))


@project_group.command("advance", help=_(
        "将项目推进到下一阶段（in_library 入库、approved 批复、implementing 实施、accepted 验收、"
        "closed 结项）。\n\n"
        "或转为 rejected（不予立项，自 proposed 或 in_library）或 adjusted（项目调整，自 "
        "approved 或 implementing；之后项目继续）。"))
@click.argument("code")
@click.option("--to", "to", type=click.Choice([s.value for s in ProjectStatus
                                               if s is not ProjectStatus.FILED]), required=True)
@click.option("--date", "effective_date", callback=to_date, default=dt.date.today().isoformat())
@click.option("--comment", default="", help=_("项目调整时：改了什么；必填。"))
@DOC_NUMBER
@pass_ctx
def project_advance(ctx, code, to, effective_date, comment, doc_number):
    """Move a project to its next stage (in_library, approved, implementing, accepted, closed),
    or to rejected (不予立项, from proposed or in_library) or adjusted (项目调整, from approved or
    implementing; the project then continues)."""
    with ctx.session() as s:
        projects.advance_project(s, ctx.actor(s), code, ProjectStatus(to), effective_date,
                                 comment, doc_number=doc_number)
    click.echo(_("项目 {code} 现处于“{stage}”阶段", code=code, stage=to))


@project_group.command("file", help=_("将县里已批复的项目报市或省备案。"))
@click.argument("code")
@click.option("--date", "effective_date", callback=to_date, default=dt.date.today().isoformat())
@click.option("--comment", default="")
@DOC_NUMBER
@pass_ctx
def project_file(ctx, code, effective_date, comment, doc_number):
    """File (备案) a county's approved project at the city or province."""
    with ctx.session() as s:
        projects.file_project(s, ctx.actor(s), code, effective_date, comment,
                              doc_number=doc_number)
    click.echo(_("项目 {code} 已备案", code=code))


@click.group("payee", help=_("收款方：可以收款的农户和承包方。"))
def payee_group():
    """Payees: the households and contractors that can be paid."""


@payee_group.command("add", help=_("登记一个可以收款的农户、企业、个人或政府单位。"))
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in PayeeKind]), required=True)
@click.option("--region", required=True)
@click.option("--credit-code", default=None,
              help=_("企业或单位的统一社会信用代码。"))
@click.option("--id-number", default=None,
              help=_("个人的身份证号；不填则会不回显地提示输入。"))
@click.option("--home-county", default=None,
              help=_("收款方的登记地（六位代码）；默认：取自其信用代码或身份证号中的行政区划。"))
@pass_ctx
def payee_add(ctx, code, name, kind, region, credit_code, id_number, home_county):
    """Register a household, business, person or government unit that can be paid."""
    vault = None
    if kind == PayeeKind.PERSON.value:
        from ledger.core.pii import PiiVault
        if not id_number:
            id_number = click.prompt("身份证号 (ID number)", hide_input=True)
        vault = PiiVault.from_env()
    with ctx.session() as s:
        payee = projects.register_payee(s, ctx.actor(s), code=code, kind=PayeeKind(kind),
                                         name=name, region_code=region,
                                         credit_code=credit_code, id_number=id_number,
                                         home_county=home_county, vault=vault)
        outside = [o for o in projects.payees_from_other_counties(s) if o.payee == code]
        home = payee.home_county
    note = _("（所属县 {home}，不是本县）", home=home) if outside else ""
    click.echo(_("收款人 {code} 已登记", code=code) + note)
