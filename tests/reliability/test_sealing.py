"""Red-team attack 1, the part the seal answers (issue 19): a log sealed within minutes, with the
seal held outside the operator's database.

The stories, each on SQLite and PostgreSQL:

- a witness, run as its own process (`fundtrail witness run`) against the web app served on a
  local port, refuses to start on a log it has never seen unless told --fresh, cosigns, and
  then refuses, loudly and with exit 1, a log whose sealed tail was deleted and re-chained
  with the project's own code; `verify` with the witness's state (and with `--trusted LAST`)
  reports the rewrite, and the offline bundle verifier, given a checkpoint the auditor kept,
  reports the rollback;
- `verify` fails closed when the newest checkpoint misses the quorum past the sealing
  interval, and after `delete from checkpoints`; the in-process cosigner refuses without state.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from ledger.audit import checkpoints as cps
from ledger.audit import keys as keyfiles
from ledger.audit.tlog import merkle
from ledger.audit.tlog.checkpoint import add_signatures, cosign, generate_cosigner
from ledger.audit.verify import bound_models, verify
from ledger.core.config import DEMO_LOG_ORIGIN, Settings
from ledger.models import RegionLevel
from ledger.org import regions
from ledger.store.db import transaction
from tests.ledger.audit.test_verify_db import tamper
from tests.world import TOWNSHIP

ORIGIN = DEMO_LOG_ORIGIN
PASSPHRASE = "sealing-test-passphrase"
ROOT = Path(__file__).resolve().parents[2]


def add_villages(world, names: list[str], first: int = 2) -> None:
    """Append entries through the project's own services (each village is one entry)."""
    with transaction(world.factory) as s:
        admin = regions.get_user(s, "admin")
        for n, name in enumerate(names, start=first):
            regions.add_region(s, admin, code=f"{TOWNSHIP}{n:03d}", name=name,
                               level=RegionLevel.VILLAGE, parent_code=TOWNSHIP)


def truncate_log(engine, keep: int, drop_checkpoints_above: int = -1) -> None:
    """What an operator with the database alone does to erase a tail: drop the triggers,
    delete every entry, node and row from `keep` on, and set the head back to the tree at
    `keep`, so that the project's own code appends (re-chains) from there. Checkpoints of a
    size above `drop_checkpoints_above` go too (all of them by default)."""
    with engine.begin() as conn:
        leaves = [bytes(h) for h in conn.execute(text(
            f"SELECT leaf_hash FROM audit_entries WHERE idx < {keep} ORDER BY idx")).scalars()]
    frontier = merkle.Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    blob = (lambda b: "X'" + b.hex() + "'") if engine.dialect.name == "sqlite" else \
        (lambda b: "'\\x" + b.hex() + "'")
    doomed = f"(SELECT id FROM checkpoints WHERE size > {drop_checkpoints_above})"
    tamper(engine,
           *[f"DELETE FROM {m.class_.__tablename__} WHERE log_index >= {keep}"
             for m in bound_models()],
           f"DELETE FROM audit_entries WHERE idx >= {keep}",
           f"DELETE FROM audit_nodes WHERE leaf_end >= {keep}",
           f"DELETE FROM cosignatures WHERE checkpoint_id IN {doomed}",
           f"DELETE FROM checkpoints WHERE size > {drop_checkpoints_above}",
           f"UPDATE audit_head SET size = {keep}, root = {blob(frontier.root())}, "
           f"frontier = {blob(frontier.to_bytes())}")


@pytest.fixture
def keys(tmp_path, monkeypatch):
    """The bureau's log key, two witnesses' keys, and a policy: either witness seals."""
    monkeypatch.setenv("FUNDTRAIL_SIGNING_PASSPHRASE", PASSPHRASE)
    folder = tmp_path / "keys"
    log = keyfiles.generate_key(folder / "log.key", name=ORIGIN, kind="log",
                                passphrase=PASSPHRASE)
    witnesses = {who: keyfiles.generate_key(folder / f"{who}.key", name=f"{who}.example",
                                            kind="cosigner", passphrase=PASSPHRASE)
                 for who in ("village", "county")}
    policy = folder / "policy.txt"
    policy.write_text(f"log {log.vkey}\n" + "".join(
        f"witness {who} {w.vkey}\n" for who, w in witnesses.items())
        + "group sign-off any village county\nquorum sign-off\n", encoding="utf-8")
    return {"dir": folder, "log": log, "policy": policy, **witnesses}


@pytest.fixture
def served(world, db_url, keys):
    """The web app on this test's database, served by a real HTTP server on a local port."""
    from web.app import create_app
    from web.settings import WebSettings
    settings = Settings(database_url=db_url, log_origin=ORIGIN, policy_file=str(keys["policy"]))
    app = create_app(WebSettings(ledger=settings, secret_key=secrets.token_urlsafe(48),
                                 secure_cookies=False))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def witness_env() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FUNDTRAIL_SIGNING_PASSPHRASE": PASSPHRASE,
           "PYTHONUNBUFFERED": "1"}
    env.pop("FUNDTRAIL_DATABASE_URL", None)  # the witness has no database, only the URL
    return env


def fundtrail(*args, cwd) -> subprocess.CompletedProcess:
    """The `fundtrail` command in a process of its own (the witness's machine)."""
    return subprocess.run([sys.executable, "-m", "ledger.cli.root", *map(str, args)], cwd=cwd,
                          env=witness_env(), capture_output=True, text=True, timeout=120)


def sign(world, keys) -> str:
    with transaction(world.factory) as s:
        return cps.sign(s, keys["log"]).note


def test_a_rewritten_sealed_tail_is_caught_by_a_witness_on_another_machine(
        world, engine, keys, served, tmp_path, cli):
    from ledger.audit.tlog.policy import parse_policy
    policy = parse_policy(keys["policy"].read_bytes())
    machine = tmp_path / "witness-machine"
    machine.mkdir()
    state = machine / "state"
    first = sign(world, keys)
    first_size = int(first.split("\n")[1])
    init = fundtrail("witness", "init", "--state", state, "--key", keys["dir"] / "village.key",
                     "--log-url", served, "--policy", keys["policy"], cwd=machine)
    assert init.returncode == 0, init.stderr

    # never seen this log: refused unless told --fresh
    refused = fundtrail("witness", "run", "--state", state, "--once", cwd=machine)
    assert refused.returncode == 2 and "no cosigner state" in refused.stderr
    assert not (state / "state.json").exists()
    ran = fundtrail("witness", "run", "--state", state, "--once", "--fresh", cwd=machine)
    assert ran.returncode == 0 and "cosigned" in ran.stdout, ran.stderr
    assert "published to the log" in ran.stdout
    # the server kept the witness's cosignature (checked against the policy): the seal holds
    with transaction(world.factory) as s:
        assert policy.verify_checkpoint(cps.with_cosignatures(s, cps.latest(s))).witnesses \
            == {"village"}
        last = cps.with_cosignatures(s, cps.latest(s))   # what an auditor keeps: LAST

    # a cosignature by anyone but a witness of the policy is refused, and nothing is stored
    impostor = generate_cosigner("village.example")
    line = cosign(first, impostor, int(time.time()))
    with pytest.raises(urllib.error.HTTPError) as refused_post:
        urllib.request.urlopen(urllib.request.Request(
            served + "/log/cosignature", method="POST",
            data=urllib.parse.urlencode({"note": add_signatures(first, [line])}).encode()))
    assert refused_post.value.code == 403
    with transaction(world.factory) as s:
        assert cps.with_cosignatures(s, cps.latest(s)) == last
    with pytest.raises(urllib.error.HTTPError) as beyond:   # no proof past what was signed
        urllib.request.urlopen(f"{served}/log/consistency?old=1&new={first_size + 1}")
    assert beyond.value.code == 404

    # the log grows; the schedule seals it and the witness cosigns again
    add_villages(world, ["一村", "二村", "三村", "四村"])
    sealed = sign(world, keys)
    ran = fundtrail("witness", "run", "--state", state, "--once", cwd=machine)
    assert ran.returncode == 0 and "cosigned" in ran.stdout, ran.stderr
    witness_note = (state / "checkpoint").read_text(encoding="utf-8")
    assert witness_note.split("\n")[1] == sealed.split("\n")[1]
    (tmp_path / "kept.txt").write_text(witness_note, encoding="utf-8")
    with transaction(world.factory) as s:
        assert verify(s, policy=policy, witness_notes=[(str(state), witness_note)]).intact

    # the attack, part 1: roll the database back to the first checkpoint (a restored backup,
    # or the tail deleted); the newest checkpoint meeting the quorum is then the first, and
    # the bundle exported from it passes the offline check unless the auditor brings the
    # checkpoint they kept
    truncate_log(engine, first_size, drop_checkpoints_above=first_size)
    code, out, err = cli("export-bundle", "bundle", "--policy", keys["policy"])
    assert code == 0, err
    check = [sys.executable, "-m", "ledger.audit.tlog.verify_bundle", str(tmp_path / "bundle"),
             "--policy", str(keys["policy"])]
    assert subprocess.run(check, capture_output=True, timeout=120).returncode == 0
    rolled = subprocess.run([*check, "--kept-checkpoint", str(tmp_path / "kept.txt")],
                            capture_output=True, text=True, timeout=120)
    assert rolled.returncode == 1 and "rolled back" in rolled.stdout, rolled.stdout

    # part 2: the tail is written again, differently, by the project's own code (re-chained),
    # every checkpoint is deleted and a new one signed: the database agrees with itself
    truncate_log(engine, first_size)
    add_villages(world, ["一村", "二村", "改村", "四村"])
    forged = sign(world, keys)
    assert forged.split("\n")[1] == sealed.split("\n")[1] and forged != sealed

    # the witness refuses it, loudly, and keeps the log-signed note as evidence
    ran = fundtrail("witness", "run", "--state", state, "--once", cwd=machine)
    assert ran.returncode == 1 and "ALERT" in ran.stderr and "not consistent" in ran.stderr
    assert list((state / "evidence").iterdir())
    assert (state / "checkpoint").read_text(encoding="utf-8") == witness_note

    # verify with the witness's state (and with LAST, which alone cannot see it) reports it
    with transaction(world.factory) as s:
        report = verify(s, policy=policy, trusted_notes=[last],
                        witness_notes=[(str(state), witness_note)])
    assert [f.kind for f in report.findings] == ["witness"]
    assert "rewritten" in report.findings[0].message
    code, out, _ = cli("verify", "--policy", keys["policy"], "--trusted", tmp_path / "kept.txt")
    assert code == 1   # an auditor who kept the witness's checkpoint sees it too
    code, out, _ = cli("verify", "--policy", keys["policy"], "--witness-state", state)
    assert code == 1 and "日志已被改写" in out and "history before it was rewritten" in out
    # the witness publishes what it sealed from its own machine; verify reads it over HTTP
    serve = subprocess.Popen([sys.executable, "-m", "ledger.cli.root", "witness", "serve",
                              "--state", str(state), "--port", "0"], cwd=machine,
                             env=witness_env(), stdout=subprocess.PIPE, text=True)
    try:
        url = serve.stdout.readline().split()[-1]
        code, out, _ = cli("verify", "--policy", keys["policy"], "--witness", url)
        assert code == 1 and "日志已被改写" in out, out
    finally:
        serve.terminate()
        serve.wait(10)


def test_verify_fails_closed_on_an_unsealed_log(world, keys, cli, tmp_path, engine):
    config = tmp_path / "fundtrail.toml"
    config.write_text(f'[audit]\nlog_origin = "{ORIGIN}"\npolicy_file = "{keys["policy"]}"\n'
                      f'signing_key_file = "{keys["dir"] / "log.key"}"\n'
                      "seal_interval_seconds = 1\n", encoding="utf-8")
    ft = lambda *args: cli("--config", config, *args)  # noqa: E731
    # a bulk command (here an approval) is sealed as it finishes: no wait for the schedule
    from tests.ledger.test_invariants import down_to_county, pay_household
    down_to_county(world)
    with transaction(world.factory) as s:
        pending = pay_household(s, world, 100_00, "sealed-at-once").id
    code, _, err = ft("--as", "k_approver", "approve", pending)
    assert code == 0 and "sealed: checkpoint" in err, err
    with transaction(world.factory) as s:
        assert cps.latest(s).size == cps.head(s).size
    assert ft("seal")[1].strip() == "nothing new to seal"
    code, out, _ = ft("verify", "--seal-interval", "600")
    assert code == 0 and "awaiting cosignatures" in out  # just signed: witnesses have the interval
    time.sleep(1.2)
    # the newest checkpoint never met the quorum: today's main said "intact" and exit 0
    code, out, _ = ft("verify", "--json")
    report = json.loads(out)
    assert code == 1 and [f["kind"] for f in report["findings"]] == ["seal", "seal"]
    code, out, _ = ft("verify")
    assert "最新检查点未达到联署法定数" in out and "日志未按时封存" in out

    # the in-process cosigner will not cosign a log it has never seen unless told --fresh
    code, _, err = ft("checkpoint", "cosign", "--key", keys["dir"] / "county.key", "--state",
                      "county.state")
    assert code == 2 and "no cosigner state" in err and not Path("county.state").exists()
    code, _, err = ft("checkpoint", "cosign", "--key", keys["dir"] / "county.key", "--state",
                      "county.state", "--fresh")
    assert code == 0, err
    assert ft("verify")[0] == 0
    code, _, err = ft("checkpoint", "cosign", "--key", keys["dir"] / "county.key", "--state",
                      "county.state", "--fresh")
    assert code == 2 and "state exists" in err

    # `delete from checkpoints`: today's main answered "intact, 0 checkpoints checked"
    tamper(engine, "DELETE FROM cosignatures", "DELETE FROM checkpoints")
    code, out, _ = ft("verify")
    assert code == 1 and "日志未按时封存" in out and "no checkpoint at all" in out
