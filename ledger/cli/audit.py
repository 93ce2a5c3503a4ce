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
from ledger.cli.params import emit, load_policy, pass_ctx
from ledger.core.errors import LedgerError
from ledger.store.context import use_log


def _passphrase(ctx, confirm: bool = False) -> str:
    value = os.environ.get(ctx.settings.passphrase_env)
    if value:
        return value
    return click.prompt("key passphrase", hide_input=True, confirmation_prompt=confirm)


@click.command("keygen")
@click.option("--kind", type=click.Choice(sorted(keyfiles.KINDS)), required=True)
@click.option("--name", default=None,
              help="Key name; for kind=log it must be the log origin (the default).")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True)
@pass_ctx
def keygen(ctx, kind, name, out):
    """Create an encrypted signing or cosigning key; print its public (verifier) key."""
    name = name or (ctx.settings.log_origin if kind == "log" else None)
    if not name:
        raise click.UsageError("--name is required for a cosigner key")
    try:
        signer = keyfiles.generate_key(out, name=name, kind=kind,
                                       passphrase=_passphrase(ctx, confirm=True))
    except keyfiles.KeyError_ as exc:
        raise LedgerError(str(exc)) from None
    click.echo(signer.vkey)


@click.group("checkpoint")
def checkpoint_group():
    """Sign, cosign and show checkpoints of the audit log."""


@checkpoint_group.command("sign")
@click.option("--key", "key_file", default=None, help="Log key file (default from config).")
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


@checkpoint_group.command("cosign")
@click.option("--key", "key_file", required=True, help="Your cosigner key file.")
@click.option("--state", "state_file", required=True,
              help="Your state file: the last checkpoint you cosigned.")
@click.option("--policy", "policy_file", default=None,
              help="Policy file with the log's public key (default from config).")
@pass_ctx
def checkpoint_cosign(ctx, key_file, state_file, policy_file):
    """Check the newest checkpoint against your last one, then cosign it."""
    policy = load_policy(policy_file or ctx.settings.policy_file)
    if policy is None:
        raise LedgerError("a policy file naming the log key is needed to cosign")
    try:
        cosigner = keyfiles.load_key(key_file, _passphrase(ctx))
    except keyfiles.KeyError_ as exc:
        raise LedgerError(str(exc)) from None
    with ctx.session() as s:
        log_keys = policy.logs_for_origin(ctx.settings.log_origin)
        if not log_keys:
            raise LedgerError(f"the policy names no key for log {ctx.settings.log_origin!r}")
        row = cps.cosign_latest(s, cosigner, log_keys, state_file)
        click.echo(f"cosigned checkpoint as {row.name}")


@checkpoint_group.command("show")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def checkpoint_show(ctx, as_json):
    """Print the newest checkpoint with every cosignature it has gathered."""
    with ctx.session() as s:
        row = cps.latest(s)
        if row is None:
            raise LedgerError("no checkpoint has been signed yet")
        note = cps.with_cosignatures(s, row)
    emit({"size": row.size, "root": row.root.hex(), "note": note}, as_json, note.rstrip("\n"))


@checkpoint_group.command("county-heads")
@click.option("--json", "as_json", is_flag=True)
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


@click.command("verify")
@click.option("--policy", "policy_file", default=None, help="Policy file (default from config).")
@click.option("--trusted", "trusted", multiple=True, type=click.Path(exists=True),
              help="A checkpoint note you kept earlier; the log must be consistent with it.")
@click.option("--since", "since_file", type=click.Path(exists=True, dir_okay=False),
              default=None, help="A checkpoint note that an earlier full verify found intact: "
              "check only what was appended after it (time follows the new entries).")
@click.option("--origin", default=None, help="Verify this log of the database instead of the "
              "configured one (a database can hold one log per county and year).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def verify_command(ctx, policy_file, trusted, since_file, origin, as_json):
    """Full audit verification, row binding included; exit 1 on any finding."""
    policy = load_policy(policy_file or ctx.settings.policy_file)
    try:
        notes = [Path(p).read_text(encoding="utf-8") for p in trusted]
        since = Path(since_file).read_text(encoding="utf-8") if since_file else None
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"cannot read a checkpoint file: {exc}") from None
    with ctx.session() as s:
        if origin is not None:
            use_log(s, origin)
        logs = log_origins(s)
        others = [o for o in logs if o != log_origin(s)]
        if origin is not None and origin not in logs:
            raise LedgerError(f"this database holds no log {origin!r}; its logs: "
                              f"{', '.join(logs) or 'none yet'}")
        if since is not None:
            from ledger.audit.verify import verify_since
            size, root = _checkpoint_size_root(since, policy)
            report = verify_since(s, size, root, policy=policy)
        else:
            report = run_verify(s, policy=policy, trusted_notes=notes)
    quorum = {k: v for k, v in report.quorum.items() if k != "detail"}
    data = {"intact": report.intact, "origin": report.origin, "size": report.size,
            "root": report.root.hex(), "rows_checked": report.rows_checked,
            "checkpoints_checked": report.checkpoints_checked, "quorum": quorum,
            "findings": [f.__dict__ for f in report.findings], "other_logs": others,
            "signatures": report.signatures}
    # Each log is verified on its own (its own policy and keys): say which were not.
    also = ([f"this database also holds the logs {', '.join(others)}: verify each with "
             "--origin"] if others else [])
    if report.intact:
        met = [str(k) for k, v in quorum.items() if v]
        missing = [str(k) for k, v in quorum.items() if v is False]
        lines = [f"intact: {report.origin}, {report.size} entries, root {report.root.hex()}",
                 f"{report.rows_checked} rows bound to the log, "
                 f"{report.checkpoints_checked} checkpoints checked"]
        if policy is None:
            lines.append("no policy file: checkpoint signatures were not checked")
        else:
            lines.append(f"quorum met for checkpoints: {', '.join(met) or 'none'}"
                         + (f"; NOT met for: {', '.join(missing)}" if missing else ""))
        lines.append(_signature_line(report.signatures))
        emit(data, as_json, "\n".join(lines + also))
        return
    lines = [f"TAMPERING OR DAMAGE FOUND: {len(report.findings)} finding(s) in {report.origin}"]
    lines += [f"- [{f.kind}] {f.message}" for f in report.findings]
    emit(data, as_json, "\n".join(lines + also))
    raise click.exceptions.Exit(1)


def _signature_line(summary: dict) -> str:
    """Personal signatures (docs/signatures.md): signed entries, and unsigned ones by people
    who held no key then (a finding only where the policy requires signatures)."""
    if not summary:
        return "personal signatures not checked"
    return (f"personal signatures: {summary['signed']} entries signed, {summary['unsigned']} "
            f"unsigned by people holding no key, {summary['keys']} keys enrolled")


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
        raise LedgerError(f"--since: not a checkpoint note this log signed: {exc}") from None
    return body.size, body.root_hash


@click.command("proof")
@click.argument("index", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "compact"]), default="text")
@click.option("-o", "out", type=click.Path(dir_okay=False), default=None)
@pass_ctx
def proof_command(ctx, index, fmt, out):
    """Inclusion proof of log entry INDEX in the newest cosigned checkpoint."""
    with ctx.session() as s:
        row = cps.latest(s)
        if row is None:
            raise LedgerError("no checkpoint has been signed yet")
        if not 0 <= index < row.size:
            raise LedgerError(f"entry {index} is not in the newest checkpoint "
                              f"(size {row.size}); sign a new checkpoint first")
        from ledger.audit.log import entry_bytes
        entry = entry_bytes(s, index)
        proof = proofs.build_proof(index, cps.with_cosignatures(s, row), cps.node_reader(s),
                                   extra=entry)
        merkle.verify_inclusion(merkle.leaf_hash(entry), index, row.size, proof.path,
                                bytes(row.root))
    data = proofs.encode_text(proof) if fmt == "text" else proofs.encode_compact(proof)
    if out:
        Path(out).write_bytes(data.encode() if isinstance(data, str) else data)
        click.echo(f"proof of entry {index} in checkpoint {row.size} written to {out}")
    else:
        click.echo(data if isinstance(data, str) else base64.b64encode(data).decode())


@click.command("export-bundle")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--policy", "policy_file", default=None, help="Policy file (default from config).")
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
    click.echo(f"bundle of {size} entries and {count} checkpoints written to {out}")


@click.command("rotate-key")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True,
              help="File for the new log key.")
@click.option("--policy", "policy_file", default=None, help="Policy file (default from config).")
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
    click.echo(f"new log key {signer.vkey}\nadded to {path}; publish the policy, then set "
               f"[audit] signing_key_file = \"{out}\"")
