"""What every command of `fundtrail` shares: the context object (settings, sessions, who acts),
the option callbacks for dates and yuan, --json output, the options and report of a transfer,
and the policy file.

The public surface of ledger.cli: the area modules here and the commands of the outer layers
(reports.cli, web.cli) import this module and nothing else of the command line, so that none
of them imports the root and the root can load them lazily (tests/test_architecture.py).

It is imported by `fundtrail --help` too, so it imports only what a command needs before it
runs; what opens the database is imported when a command first asks for it.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from ledger.core.config import load_settings
from ledger.core.errors import LedgerError
from ledger.core.money import MoneyError, format_yuan, parse_yuan
from ledger.core.normalise import nfkc
from ledger.i18n import _

KEY_ENV = "FUNDTRAIL_KEY"                # the acting person's key file
KEY_DIR_ENV = "FUNDTRAIL_KEY_DIR"        # a folder of key files named <username>.key
PASSPHRASE_ENV = "FUNDTRAIL_KEY_PASSPHRASE"


class Context:
    """The `click` context object: the settings of --config, who acts (--as) and the key they
    sign with (--key, docs/signatures.md)."""

    def __init__(self, config_path, username, key_path=None):
        self.settings = load_settings(config_path)
        self.username = username
        self.key_path = key_path
        self._factory = None
        self._signer = None
        self._private_key = None

    @property
    def factory(self):
        """Sessions of the configured database, each carrying the deployment's LedgerContext
        (log origin and ledger rules) from these settings."""
        if self._factory is None:
            # Imported here: the database side loads SQLAlchemy, which `--help` does not need.
            from ledger.store.context import LedgerContext
            from ledger.store.db import make_engine, make_sessionmaker
            engine = make_engine(self.settings.require_database_url())
            self._factory = make_sessionmaker(engine, LedgerContext.from_settings(self.settings))
        return self._factory

    def signed_session(self):
        """A new session of `factory` that signs the acting person's entries (once `actor`
        has found who that is): the refused-attempt record of a failed command, written in a
        transaction of its own, is signed like the command's own entries."""
        session = self.factory()
        if self._signer is not None:
            from ledger.audit.log import install_signer
            install_signer(session, self._signer)
        return session

    def session(self):
        """A unit of work: `with ctx.session() as s:` commits on success, rolls back on error
        (and records a refused attempt, see `_SessionScope`)."""
        return _SessionScope(self)

    def key_file(self, username: str | None = None) -> Path | None:
        """The key file of the acting person: --key-file or FUNDTRAIL_KEY, else
        FUNDTRAIL_KEY_DIR/<username>.key when that file exists, else None."""
        if self.key_path:
            return Path(self.key_path)
        folder = os.environ.get(KEY_DIR_ENV)
        username = username or self.username
        if folder and username:
            path = Path(folder) / f"{username}.key"
            if path.exists():
                return path
        return None

    def private_key(self, username: str | None = None):
        """The acting person's private key, decrypted once per command (never per entry)."""
        if self._private_key is None:
            path = self.key_file(username)
            if path is None:
                return None
            from ledger.org.personal_keys import read_key_file
            self._private_key = read_key_file(path, passphrase(f"passphrase of {path}"))
        return self._private_key

    def actor(self, session):
        """The user of --as; a command that changes the books cannot run without one.

        The person signs every entry written in their name with their key: the key file is
        read (and its passphrase asked) before the database is touched, and a change in the
        name of someone who has no valid key here is refused when its entry is written, so
        the whole command rolls back. Reading needs no key."""
        if not self.username:
            raise click.UsageError(_("此命令会改动账目：请用 --as USERNAME（或 FUNDTRAIL_USER）"
                                     "说明你是谁，并用你的密钥签名（--key-file FILE）"))
        key = self.private_key()
        from ledger.audit.log import install_signer
        from ledger.org import regions
        from ledger.org.personal_keys import signer_for
        user = regions.get_user(session, self.username)
        if self._signer is None:
            self._signer = signer_for(session, self.username, key)
        install_signer(session, self._signer)
        return user


def passphrase(prompt: str, confirm: bool = False) -> str:
    """A key file's passphrase: FUNDTRAIL_KEY_PASSPHRASE, else asked without echo."""
    return secret_from(PASSPHRASE_ENV, prompt, confirm)


def secret_from(env_name: str, prompt: str, confirm: bool = False) -> str:
    """A secret from the environment variable `env_name`, else asked without echo on a terminal.

    Without a terminal (a script, cron, CI) there is nobody to ask: one line says which variable
    to set (exit 2), instead of getpass's GetPassWarning and a read of stdin that gets nothing."""
    value = os.environ.get(env_name)
    if value:
        return value
    if not sys.stdin.isatty():
        raise click.ClickException(
            _("缺少口令：未设置环境变量 {env}，且没有终端可以输入（{prompt}）", env=env_name,
              prompt=prompt))
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


class _SessionScope:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def __enter__(self):
        # A change refused as a control against misuse is rolled back, then its attempt is
        # written for auditors in a transaction of its own (ledger.funds.refusals_log).
        from ledger.funds.refusals_log import recording
        self.cm = recording(self.ctx.signed_session)
        return self.cm.__enter__()

    def __exit__(self, *exc):
        return self.cm.__exit__(*exc)


pass_ctx = click.make_pass_decorator(Context)


def to_date(_ctx, _param, value):
    """Option callback: YYYY-MM-DD text to a date (a date default passes through), read under
    NFKC (full-width digits typed by a Chinese input method are the same date)."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(nfkc(value))
    except ValueError:
        raise click.BadParameter(_("{value} 不是 2024-03-31 这样的日期",
                                   value=repr(value))) from None


def yuan_to_fen(_ctx, _param, value):
    """Option callback: an amount in yuan ("1,234.56", "¥12", full-width "１２") to whole fen; a
    lookalike of a digit (12O) is named (a MoneyError too: ledger.core.money)."""
    if value is None:
        return None
    try:
        return parse_yuan(value)
    except MoneyError as exc:
        raise click.BadParameter(str(exc)) from None


def emit(data, as_json: bool, text: str) -> None:
    """Print `data` as JSON with --json, else the human-readable `text`."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str) if as_json else text)


_TRANSFER_OPTIONS = [
    click.option("--date", "effective_date", callback=to_date, default=dt.date.today().isoformat(),
                 show_default="today", help=_("生效（起息）日期，YYYY-MM-DD。")),
    click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印该转账。")),
]


# The commands that record a voucher (allocate, fund-project, pay) take its dates too (issue 17):
# with --voucher-date and no --date, the engine posts on the voucher's date, or today when that
# month is closed, and keeps the voucher's date beside it.
_VOUCHER_OPTIONS = [
    click.option("--date", "effective_date", callback=to_date, default=None,
                 show_default="the voucher date, or today if its month is closed",
                 help=_("记账（会计）日期，YYYY-MM-DD。")),
    click.option("--voucher-date", callback=to_date, default=None,
                 help=_("凭证上的日期（凭证日期；下拨文件的印发日期）。")),
    click.option("--value-date", callback=to_date, default=None,
                 help=_("银行的起息/到账日期。")),
    click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印该转账。")),
]


def transfer_options(func):
    """--date and --json of every command that records a transfer (see report_transfer)."""
    for option in reversed(_TRANSFER_OPTIONS):
        func = option(func)
    return func


def voucher_options(func):
    """--date, --voucher-date, --value-date and --json of the commands that record a voucher."""
    for option in reversed(_VOUCHER_OPTIONS):
        func = option(func)
    return func


def _day(value):
    return value.isoformat() if value is not None else None


def report_transfer(t, as_json) -> None:
    """What every command that records a transfer prints."""
    voucher = t.voucher_date
    late = voucher is not None and voucher != t.effective_date
    emit({"id": t.id, "kind": t.kind.value, "lot_id": t.lot_id, "amount_fen": t.amount_fen,
          "amount": format_yuan(t.amount_fen), "effective_date": t.effective_date.isoformat(),
          "voucher_date": _day(voucher), "value_date": _day(t.value_date),
          "key": t.idempotency_key, "log_index": t.log_index}, as_json,
         _("转账 #{id}（{kind}）{amount} 元已录入（待审核；凭证号 {key}）", id=t.id,
           kind=kind_label(t.kind.value), amount=format_yuan(t.amount_fen),
           key=t.idempotency_key)
         + (_("；记账日期 {posted}，凭证日期 {voucher}（晚 {days} 天）", posted=t.effective_date,
              voucher=voucher, days=(t.effective_date - voucher).days) if late else ""))


def kind_label(value: str) -> str:
    """A transfer kind as the person reads it: its label in Chinese, its value in English
    (the command-line word, as `--json` and scripts know it)."""
    from ledger.i18n import DEFAULT_LOCALE, current_locale
    if current_locale() != DEFAULT_LOCALE:
        return value
    try:
        from ledger.i18n.labels import label
    except ImportError:  # pragma: no cover - until the labels land
        return value
    return label(value, "TransferKind")


def progress_option(func):
    """--progress/--no-progress of the commands that read a file line by line."""
    return click.option("--progress/--no-progress", "progress", default=None,
                        help=_("在 stderr 显示进度条（默认：stderr 是终端时）。"))(func)


@contextmanager
def progress_bar(enabled: bool | None, what: str):
    """Within the block, an import's lines are counted on a progress bar (tqdm) on stderr:
    when `enabled`, or when it is None and stderr is a terminal. A kind that checks its lines
    before writing them shows each pass (the count starts again)."""
    stream = sys.stderr
    if enabled is None:
        enabled = stream.isatty()
    if not enabled:
        yield
        return
    # Imported here: --help and the commands without a bar need neither.
    from tqdm import tqdm

    from ledger.imports.progress import reporting
    with tqdm(total=0, desc=what, unit=" lines", file=stream,
              dynamic_ncols=True, mininterval=0.2) as bar:
        def advance(done: int, total: int) -> None:
            if done < bar.n or total != bar.total:
                bar.reset(total=total)
            bar.update(done - bar.n)
        with reporting(advance):
            yield


def load_policy(path: str | None):
    """The log's policy file (keys, witnesses, quorum), or None when there is no such file.

    A file that exists but does not parse is an error (exit 2), never "no policy": without a
    policy, verification would skip every signature and quorum check.
    """
    if not path or not Path(path).exists():
        return None
    # Imported here: parsing a policy loads the signature code, which `--help` does not need.
    from ledger.audit.tlog.policy import PolicyError, parse_policy
    try:
        return parse_policy(Path(path).read_bytes())
    except PolicyError as exc:
        raise LedgerError(f"{path}: {exc}") from None
