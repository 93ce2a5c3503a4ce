"""Audit-log commands of the `fundtrail` CLI: keys, checkpoints, verification, proofs."""
from __future__ import annotations

import base64
import os
from pathlib import Path

import click

from ledger.audit import checkpoints as cps
from ledger.audit import keys as keyfiles
from ledger.audit.log import log_origin
from ledger.audit.tlog import merkle, proofs
from ledger.audit.tlog.policy import parse_policy
from ledger.audit.verify import log_origins
from ledger.audit.verify import verify as run_verify
from ledger.cli.params import emit, load_policy, pass_ctx, secret_from
from ledger.core.errors import LedgerError
from ledger.i18n import _
from ledger.store.context import use_log


def _passphrase(ctx, confirm: bool = False) -> str:
    return secret_from(ctx.settings.passphrase_env, "key passphrase", confirm)


@click.command("keygen", help=_("创建加密的签名或联署密钥；打印其公钥（验证公钥）。"))
@click.option("--kind", type=click.Choice(sorted(keyfiles.KINDS)), required=True)
@click.option("--name", default=None,
              help=_("密钥名称；kind=log 时必须是日志来源名（默认）。"))
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True)
@pass_ctx
def keygen(ctx, kind, name, out):
    """Create an encrypted signing or cosigning key; print its public (verifier) key."""
    name = name or (ctx.settings.log_origin if kind == "log" else None)
    if not name:
        raise click.UsageError(_("联署密钥必须给出 --name"))
    try:
        signer = keyfiles.generate_key(out, name=name, kind=kind,
                                       passphrase=_passphrase(ctx, confirm=True))
    except keyfiles.KeyError_ as exc:
        raise LedgerError(str(exc)) from None
    click.echo(signer.vkey)


@click.group("checkpoint", help=_("审计日志检查点：签署、联署、查看。"))
def checkpoint_group():
    """Sign, cosign and show checkpoints of the audit log."""


@checkpoint_group.command("sign", help=_("为日志的当前状态签署一个检查点。"))
@click.option("--key", "key_file", default=None, help=_("日志密钥文件（默认取自配置）。"))
@pass_ctx
def checkpoint_sign(ctx, key_file):
    """Sign a checkpoint of the log as it stands now."""
    try:
        signer = keyfiles.load_key(key_file or ctx.settings.signing_key_file, _passphrase(ctx))
    except keyfiles.KeyError_ as exc:
        raise LedgerError(str(exc)) from None
    with ctx.session() as s:
        row = cps.sign(s, signer)
        click.echo(row.note, nl=False)


@checkpoint_group.command("cosign", help=_("将最新检查点与你上次联署的核对，然后联署。"))
@click.option("--key", "key_file", required=True, help=_("你的联署密钥文件。"))
@click.option("--state", "state_file", required=True,
              help=_("你的状态文件：你上次联署的检查点。"))
@click.option("--policy", "policy_file", default=None,
              help=_("含日志公钥的策略文件（默认取自配置）。"))
@click.option("--fresh", is_flag=True,
              help=_("还没有状态文件：这是你对该日志的第一次联署。"))
@pass_ctx
def checkpoint_cosign(ctx, key_file, state_file, policy_file, fresh):
    """Check the newest checkpoint against your last one, then cosign it."""
    cps.require_state(state_file, fresh)
    policy = load_policy(policy_file or ctx.settings.policy_file)
    if policy is None:
        raise LedgerError(_("联署需要写明日志密钥的策略文件"))
    try:
        cosigner = keyfiles.load_key(key_file, _passphrase(ctx))
    except keyfiles.KeyError_ as exc:
        raise LedgerError(str(exc)) from None
    with ctx.session() as s:
        log_keys = policy.logs_for_origin(ctx.settings.log_origin)
        if not log_keys:
            raise LedgerError(_("策略中没有日志 {origin} 的密钥",
                                origin=repr(ctx.settings.log_origin)))
        row = cps.cosign_latest(s, cosigner, log_keys, state_file, fresh=fresh)
        click.echo(_("已以 {name} 的身份联署检查点", name=row.name))


@checkpoint_group.command("show", help=_("打印最新检查点及其已收集的全部联署。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def checkpoint_show(ctx, as_json):
    """Print the newest checkpoint with every cosignature it has gathered."""
    with ctx.session() as s:
        row = cps.latest(s)
        if row is None:
            raise LedgerError(_("尚未签署任何检查点"))
        note = cps.with_cosignatures(s, row)
    emit({"size": row.size, "root": row.root.hex(), "note": note}, as_json, note.rstrip("\n"))


@checkpoint_group.command("county-heads", help=_(
        "在本日志（省级）中记录本数据库其他每个日志最新的已签检查点。\n\n"
        "本日志的下一个已签检查点便涵盖它们全部。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def checkpoint_county_heads(ctx, as_json):
    """Record in this log (the province's) the newest signed checkpoint of every other log of
    the database: the next signed checkpoint of this log then covers them all."""
    from ledger.audit.county_heads import record_county_heads
    with ctx.session() as s:
        index, heads = record_county_heads(s, ctx.actor(s))
    emit({"entry": index, "heads": heads}, as_json,
         f"entry {index} records {len(heads)} log head(s):\n"
         + "\n".join(f"  {h['origin']} size {h['size']} root {h['root'][:16]}…"
                     for h in heads))


@click.command("verify", help=_("完整审计核验，含行绑定；有任何发现时退出码为 1。"))
@click.option("--policy", "policy_file", default=None, help=_("策略文件（默认取自配置）。"))
@click.option("--trusted", "trusted", multiple=True, type=click.Path(exists=True),
              help=_("你先前保存的检查点；日志必须与之一致。"))
@click.option("--since", "since_file", type=click.Path(exists=True, dir_okay=False),
              default=None, help=_(
                                "先前一次完整核验认定完好的检查点：只检查其后追加的部分（耗时随新"
                                "增记录而定）。"))
@click.option("--origin", default=None, help=_(
                                            "核验数据库中的这个日志，而非配置的那个（一个数据库可"
                                            "按县和年度各有一个日志）。"))
@click.option("--witness-state", "witness_states", multiple=True,
              type=click.Path(exists=True, file_okay=False),
              help=_(
                  "见证者的状态目录：日志必须包含它上次联署的检查点，且数据库必须仍保存该检查点。"))
@click.option("--witness", "witness_urls", multiple=True,
              help=_(
                  "见证者发布其上次联署检查点的网址（fundtrail witness serve），按 "
                  "--witness-state 同样核对。"))
@click.option("--seal-interval", type=click.IntRange(min=0), default=None,
              help=_(
                  "每条记录必须在多少秒内被满足法定人数的检查点覆盖（默认 [audit] "
                  "seal_interval_seconds，300）。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def verify_command(ctx, policy_file, trusted, since_file, origin, witness_states,
                   witness_urls, seal_interval, as_json):
    """Full audit verification, row binding included; exit 1 on any finding."""
    from ledger.audit import witness as witnesses
    policy = load_policy(policy_file or ctx.settings.policy_file)
    try:
        notes = [Path(p).read_text(encoding="utf-8") for p in trusted]
        since = Path(since_file).read_text(encoding="utf-8") if since_file else None
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(_("无法读取检查点文件：{exc}", exc=exc)) from None
    held = []
    for folder in witness_states:
        note = witnesses.published_note(folder)
        if note is None:
            raise LedgerError(_("{folder}：该见证者尚未联署任何检查点", folder=folder))
        held.append((folder, note))
    held += [(url, witnesses.fetch_note(url)) for url in witness_urls]
    if held and policy is None:
        raise LedgerError(_("对照见证者核对需要含其密钥的策略"))
    interval = seal_interval if seal_interval is not None else seal_interval_of(ctx.settings)
    with ctx.session() as s:
        if origin is not None:
            use_log(s, origin)
        logs = log_origins(s)
        others = [o for o in logs if o != log_origin(s)]
        if origin is not None and origin not in logs:
            raise LedgerError(_("本数据库没有日志 {origin}；其日志：{logs}", origin=repr(origin),
                                logs=", ".join(logs) or _("尚无")))
        if since is not None:
            from ledger.audit.verify import verify_since
            size, root = _checkpoint_size_root(since, policy)
            report = verify_since(s, size, root, policy=policy)
        else:
            # Only read so far: end that transaction, so that a large log is replayed by
            # several processes (ledger.audit.verify_parallel; they cannot share one).
            s.rollback()
            report = run_verify(s, policy=policy, trusted_notes=notes, witness_notes=held,
                                seal_interval=interval)
    quorum = {k: v for k, v in report.quorum.items() if k != "detail"}
    data = {"intact": report.intact, "origin": report.origin, "size": report.size,
            "root": report.root.hex(), "rows_checked": report.rows_checked,
            "checkpoints_checked": report.checkpoints_checked, "quorum": quorum,
            "sealed_size": report.sealed_size, "awaiting_quorum": report.awaiting_quorum,
            "witnesses_checked": report.witnesses_checked, "seal_interval": interval,
            "findings": [f.__dict__ for f in report.findings], "other_logs": others,
            "signatures": report.signatures}
    # Each log is verified on its own (its own policy and keys): say which were not.
    also = ([_("本数据库还保存了日志 {logs}：请用 --origin 逐个核验", logs=", ".join(others))]
            if others else [])
    if report.intact:
        none = _("无")
        met = [str(k) for k, v in quorum.items() if v]
        missing = [str(k) for k, v in quorum.items() if v is False]
        lines = [_("完整：{origin}，{size} 条日志，根哈希 {root}", origin=report.origin,
                   size=report.size, root=report.root.hex()),
                 _("{rows} 行数据与日志绑定，核对了 {checkpoints} 个检查点",
                   rows=report.rows_checked, checkpoints=report.checkpoints_checked)]
        if policy is None:
            lines.append(_("没有策略文件：未核对检查点签名"))
        else:
            lines.append(_("达到法定签名数的检查点：{met}", met=", ".join(met) or none)
                         + (_("；未达到：{missing}", missing=", ".join(missing))
                            if missing else ""))
            if report.sealed_size is not None:
                lines.append(_("已封存：第 0..{last} 条由达到法定签名数的检查点封存；封存间隔 "
                               "{interval} 秒", last=report.sealed_size - 1, interval=interval)
                             if report.sealed_size else
                             _("尚无封存的条目（没有早于 {interval} 秒的条目）", interval=interval))
            if report.awaiting_quorum is not None:
                lines.append(_("待联署：检查点 {size}，签署不到 {interval} 秒",
                               size=report.awaiting_quorum, interval=interval))
            if report.witnesses_checked:
                lines.append(_("{n} 个见证方检查点与日志一致", n=report.witnesses_checked))
        lines.append(_signature_line(report.signatures))
        emit(data, as_json, "\n".join(lines + also))
        return
    lines = [_("校验未通过：发现篡改或损坏，{origin} 中 {n} 项问题", n=len(report.findings),
               origin=report.origin)]
    lines += [f"- [{f.kind}] {f.message}" for f in report.findings]
    emit(data, as_json, "\n".join(lines + also))
    raise click.exceptions.Exit(1)


def seal_interval_of(settings) -> int:
    from ledger.audit.verify import seal_interval_setting
    try:
        return seal_interval_setting(settings)
    except ValueError as exc:
        raise LedgerError(str(exc)) from None


def load_log_key(ctx, key_file=None):
    """The bureau's log key, decrypted with the passphrase from the environment or a prompt."""
    try:
        return keyfiles.load_key(key_file or ctx.settings.signing_key_file, _passphrase(ctx))
    except keyfiles.KeyError_ as exc:
        raise LedgerError(str(exc)) from None


def seal_after_bulk(ctx) -> None:
    """Seal after a bulk command, when it can be done unattended: the log key's passphrase is
    in the environment and its key file is there ([audit] seal_after_bulk = false turns it
    off). A failure here never undoes the command: it is said on stderr, and the schedule
    seals at its next round."""
    settings = ctx.settings
    if settings.extra.get("audit", {}).get("seal_after_bulk", True) is False:
        return
    passphrase = os.environ.get(settings.passphrase_env)
    if not passphrase or not Path(settings.signing_key_file).is_file():
        return
    try:
        signer = keyfiles.load_key(settings.signing_key_file, passphrase)
        with ctx.session() as s:
            row = cps.seal(s, signer)
            size = row.size if row is not None else None
    except (keyfiles.KeyError_, LedgerError) as exc:
        click.echo(_("本命令后未能封存：{reason}", reason=exc), err=True)
        return
    if size is not None:
        click.echo(_("已封存：已签署 {size} 条日志的检查点", size=size), err=True)


@click.command("seal", help=_("日志自最新检查点以来有增长时签署检查点（一次，或 --every N 秒）。"))
@click.option("--key", "key_file", default=None, help=_("日志密钥文件（默认取自配置）。"))
@click.option("--every", "every", type=click.IntRange(min=1), default=None,
              help=_("持续运行：每 SECONDS 秒签署一次（默认：签一次即退出）。"))
@pass_ctx
def seal_command(ctx, key_file, every):
    """Sign a checkpoint when the log has grown since the newest one (once, or --every N s)."""
    import time
    if every is not None and not os.environ.get(ctx.settings.passphrase_env):
        raise LedgerError(_("--every 无人值守运行：请设置 {env}（例如来自 systemd 凭据），"
                            "而不是输入口令", env=ctx.settings.passphrase_env))
    signer = load_log_key(ctx, key_file)
    while True:
        with ctx.session() as s:
            row = cps.seal(s, signer)
            size = row.size if row is not None else None
        click.echo(_("已封存：已签署 {size} 条日志的检查点", size=size) if size is not None
                   else _("没有需要封存的新条目"))
        if every is None:
            return
        time.sleep(every)
def _signature_line(summary: dict) -> str:
    """Personal signatures (docs/signatures.md): signed entries, and unsigned ones by people
    who held no key then (a finding only where the policy requires signatures)."""
    if not summary:
        return _("未核对个人签名")
    return _("个人签名：{signed} 条已签名，{unsigned} 条由当时没有密钥的人写入（未签名），已登记 "
             "{keys} 把密钥", signed=summary["signed"], unsigned=summary["unsigned"],
             keys=summary["keys"])


def _checkpoint_size_root(note: str, policy) -> tuple[int, bytes]:
    """Size and root of a kept checkpoint note, its signatures checked when a policy is known."""
    from ledger.audit.tlog.checkpoint import Checkpoint, CheckpointError
    from ledger.audit.tlog.note import NoteError, parse_note
    try:
        if policy is not None:
            body = policy.verify_checkpoint(note).verified.checkpoint
        else:
            body = Checkpoint.from_text(parse_note(note).text)
    except (CheckpointError, NoteError, ValueError) as exc:
        raise LedgerError(_("--since：不是本日志签署的检查点：{exc}", exc=exc)) from None
    return body.size, body.root_hash


@click.command("proof", help=_("日志第 INDEX 条在最新联署检查点中的包含证明。"))
@click.argument("index", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "compact"]), default="text")
@click.option("-o", "out", type=click.Path(dir_okay=False), default=None)
@pass_ctx
def proof_command(ctx, index, fmt, out):
    """Inclusion proof of log entry INDEX in the newest cosigned checkpoint."""
    with ctx.session() as s:
        row = cps.latest(s)
        if row is None:
            raise LedgerError(_("尚未签署任何检查点"))
        if not 0 <= index < row.size:
            raise LedgerError(_("第 {index} 条不在最新检查点中（大小 {size}）；请先签署新的检查点",
                                index=index, size=row.size))
        from ledger.audit.log import entry_bytes
        entry = entry_bytes(s, index)
        proof = proofs.build_proof(index, cps.with_cosignatures(s, row), cps.node_reader(s),
                                   extra=entry)
        merkle.verify_inclusion(merkle.leaf_hash(entry), index, row.size, proof.path,
                                bytes(row.root))
    data = proofs.encode_text(proof) if fmt == "text" else proofs.encode_compact(proof)
    if out:
        Path(out).write_bytes(data.encode() if isinstance(data, str) else data)
        click.echo(_("第 {index} 条在检查点 {size} 中的证明已写入 {out}", index=index,
                     size=row.size, out=out))
    else:
        click.echo(data if isinstance(data, str) else base64.b64encode(data).decode())


@click.command("export-bundle", help=_(
        "为审计人员写出离线包（C2SP tlog-tiles 布局、检查点、策略）。\n\n"
        "该包涵盖截至最新已签检查点的日志；可在任何地方用 `python -m "
        "ledger.audit.tlog.verify_bundle OUT_DIR` 核验。"))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--policy", "policy_file", default=None, help=_("策略文件（默认取自配置）。"))
@pass_ctx
def export_bundle(ctx, out_dir, policy_file):
    """Write an offline bundle for auditors (C2SP tlog-tiles layout, checkpoints, policy).

    The bundle covers the log up to the newest signed checkpoint; check it anywhere with
    `python -m ledger.audit.tlog.verify_bundle OUT_DIR`.
    """
    from ledger.audit.export import export_bundle as export
    path = policy_file or ctx.settings.policy_file
    policy = load_policy(path)
    if policy is None:
        raise LedgerError(f"no policy file at {path}: the bundle must carry the public keys")
    with ctx.session() as s:
        out, size, count = export(s, out_dir, origin=ctx.settings.log_origin, policy=policy,
                                  policy_path=path)
    click.echo(_("审计包（{size} 条日志、{count} 个检查点）已写入 {out}", size=size, count=count,
                 out=out))


@click.command("rotate-key", help=_(
        "生成新的日志密钥，并加入策略，与旧密钥并列。\n\n"
        "两个密钥都有效，直到你删去旧的 `log` 行（docs/operations.md）。将 [audit] "
        "signing_key_file 指向新文件即用它签名。"))
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True,
              help=_("新日志密钥的文件。"))
@click.option("--policy", "policy_file", default=None, help=_("策略文件（默认取自配置）。"))
@pass_ctx
def rotate_key(ctx, out, policy_file):
    """Make a new log key and add it to the policy beside the old one.

    Both keys stay valid until you remove the old `log` line (docs/operations.md). Point
    [audit] signing_key_file at the new file to sign with it.
    """
    path = Path(policy_file or ctx.settings.policy_file)
    policy = load_policy(str(path))
    if policy is None:
        raise LedgerError(f"no policy file at {path}: nothing to rotate")
    try:
        signer = keyfiles.generate_key(out, name=ctx.settings.log_origin, kind="log",
                                       passphrase=_passphrase(ctx, confirm=True))
    except keyfiles.KeyError_ as exc:
        raise LedgerError(str(exc)) from None
    lines = path.read_text(encoding="utf-8").splitlines()
    last_log = max(i for i, line in enumerate(lines) if line.startswith("log ")) \
        if any(line.startswith("log ") for line in lines) else -1
    lines.insert(last_log + 1, f"log {signer.vkey}")
    text = "\n".join(lines) + "\n"
    parse_policy(text)  # never write a policy that does not parse
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    click.echo(_("新的日志密钥 {vkey}\n已加入 {path}；请先公布策略文件，再设置 "
                 "[audit] signing_key_file = \"{out}\"", vkey=signer.vkey, path=path, out=out))


@click.group("witness", help=_("另一台机器上的见证者：获取、核对、联署并发布日志的检查点。"))
def witness_group():
    """A witness on another machine: fetch, check, cosign and publish the log's checkpoints."""


@witness_group.command("init", help=_("为一个日志设立见证者；首次运行需要 --fresh。"))
@click.option("--state", "state_dir", required=True, type=click.Path(file_okay=False),
              help=_("见证者自己的状态目录（请保留并备份）。"))
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False),
              help=_("见证者的联署密钥文件（fundtrail keygen --kind cosigner）。"))
@click.option("--log-url", required=True, help=_(
                                              "日志的公开地址，如 https://fundtrail.example.gov.c"
                                              "n（其 /checkpoint.txt 和 /log/…）。"))
@click.option("--log-key", "log_keys", multiple=True,
              help=_("日志的公钥（验证公钥），取自你自己保存的策略。"))
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
              default=None, help=_("你自己保存的策略：使用其中的日志密钥。"))
@click.option("--origin", default=None, help=_("日志的来源名（默认：其密钥的名称）。"))
def witness_init(state_dir, key_file, log_url, log_keys, policy_file, origin):
    """Set up a witness for one log; its first run needs --fresh."""
    from ledger.audit import witness as witnesses
    keys = list(log_keys)
    if policy_file:
        keys += [v.vkey for v in load_policy(policy_file).logs]
    if not keys:
        raise click.UsageError(_("请用 --log-key 或 --policy 给出日志的密钥"))
    names = {k.split("+", 1)[0] for k in keys}
    origin = origin or (names.pop() if len(names) == 1 else None)
    if origin is None:
        raise click.UsageError(_("这些密钥对应多个日志：请用 --origin 指明是哪一个"))
    keys = [k for k in keys if k.split("+", 1)[0] == origin]
    path = witnesses.init(state_dir, origin=origin, log_url=log_url, log_keys=keys,
                          key_file=str(Path(key_file).resolve()))
    click.echo(_("{origin} 的见证方已在 {path} 建立；首次联署请运行 `fundtrail witness run "
                 "--state {state_dir} --once --fresh`", origin=origin, path=path,
                 state_dir=state_dir))


@witness_group.command("run", help=_(
        "获取最新检查点和一致性证明，与上次联署的检查点核对，联署，保存状态并发布联署。\n\n"
        "日志缩短或分叉时退出码为 1，并在 stderr 报警：这样的检查点永不联署。"))
@click.option("--state", "state_dir", required=True, type=click.Path(file_okay=False))
@click.option("--once", "once", is_flag=True, help=_("运行一轮后退出（默认）。"))
@click.option("--every", "every", type=click.IntRange(min=1), default=None,
              help=_("持续运行：每 SECONDS 秒一轮。"))
@click.option("--fresh", is_flag=True, help=_(
                                           "还没有状态：首次联署该日志（首次使用即信任）。"
                                           "已有状态时拒绝。"))
@pass_ctx
def witness_run(ctx, state_dir, once, every, fresh):
    """Fetch the newest checkpoint and a consistency proof, check them against the checkpoint
    cosigned last, cosign, keep the state and publish the cosignature.

    Exit 1, with an alarm on stderr, when the log shrank or forked: it is never cosigned."""
    import time

    from ledger.audit import witness as witnesses
    if once and every is not None:
        raise click.UsageError(_("--once 或 --every，不能同时使用"))
    if every is not None and not os.environ.get(ctx.settings.passphrase_env):
        raise LedgerError(f"--every runs unattended: set {ctx.settings.passphrase_env}")
    config = witnesses.load_config(state_dir)
    try:
        signer = keyfiles.load_key(config.key_file, _passphrase(ctx))
    except keyfiles.KeyError_ as exc:
        raise LedgerError(str(exc)) from None
    while True:
        try:
            outcome = witnesses.run_once(state_dir, signer, fresh=fresh)
        except LedgerError as exc:
            if exc.code in ("log_shrank", "log_inconsistent", "checkpoint_invalid"):
                click.echo(_("告警：{origin} 的日志被截断或改写，拒绝联署：{reason}（证据保存在 "
                             "{evidence}）", origin=config.origin, reason=exc,
                             evidence=Path(state_dir) / witnesses.EVIDENCE), err=True)
                raise click.exceptions.Exit(1) from None
            if every is None or exc.code != "witness_fetch_failed":
                raise
            click.echo(_("无法获取：{reason}", reason=exc), err=True)
        else:
            fresh = False
            click.echo(_("{status}：{origin} 大小 {size} 根哈希 {root}…；", status=outcome.status,
                         origin=config.origin, size=outcome.size,
                         root=outcome.root.hex()[:16])
                       + (_("已发布到日志") if outcome.published
                          else _("未发布（日志拒绝或无法连接；已保存在本地，下一轮再发送）")))
        if every is None:
            return
        time.sleep(every)


@witness_group.command("show", help=_("打印本见证者上次联署的检查点（即其发布的内容）。"))
@click.option("--state", "state_dir", required=True, type=click.Path(file_okay=False))
def witness_show(state_dir):
    """Print the checkpoint this witness cosigned last (what it publishes)."""
    from ledger.audit import witness as witnesses
    note = witnesses.published_note(state_dir)
    if note is None:
        raise LedgerError(f"{state_dir}: this witness has cosigned nothing yet")
    click.echo(note, nl=False)


@witness_group.command("serve", help=_(
        "在 http://HOST:PORT/checkpoint 发布本见证者上次联署的检查点。\n\n"
        "供 `fundtrail verify --witness URL` 使用（只读；请在前面加 TLS 代理）。"))
@click.option("--state", "state_dir", required=True, type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
def witness_serve(state_dir, host, port):
    """Publish the checkpoint this witness cosigned last at http://HOST:PORT/checkpoint, for
    `fundtrail verify --witness URL` (read-only; put a TLS proxy in front of it)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from ledger.audit import witness as witnesses

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            note = witnesses.published_note(state_dir) if self.path == "/checkpoint" else None
            body = (note or "not found\n").encode("utf-8")
            self.send_response(200 if note else 404)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    click.echo(_("见证方检查点：http://{host}:{port}/checkpoint", host=host,
                 port=server.server_address[1]))
    try:
        server.serve_forever()
    finally:
        server.server_close()
