"""`fundtrail serve`: the web app under waitress, on 127.0.0.1 unless told otherwise."""
from __future__ import annotations

import click

from ledger.cli.params import pass_ctx
from ledger.i18n import _


@click.command("serve", help=_("用 waitress 运行网页应用（工作人员、审计人员、公开页面）。"))
@click.option("--host", default="127.0.0.1", show_default=True,
              help=_("监听地址。非本机回环地址时，请在前面加终止 TLS 的代理。"))
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@pass_ctx
def serve(ctx, host, port, threads):
    """Serve the web app (staff, auditors, public pages) with waitress."""
    import waitress

    from ledger.core.config import ConfigError
    from ledger.core.errors import LedgerError
    from web.app import create_app
    from web.settings import web_settings_from
    try:
        settings = web_settings_from(ctx.settings)
    except ConfigError as exc:
        raise LedgerError(str(exc)) from None
    if not settings.secure_cookies and host not in ("127.0.0.1", "localhost", "::1"):
        raise click.UsageError(_("secure_cookies = false 只允许用于本机回环地址：否则 cookie "
                                 "会以明文传输"))
    app = create_app(settings)
    click.echo(_("fundtrail 网页服务：http://{host}:{port}/（按 Ctrl-C 停止）", host=host,
                 port=port))
    waitress.serve(app, host=host, port=port, threads=threads, ident="fundtrail")
