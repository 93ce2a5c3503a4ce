"""Issue 19: entries within the format's limits, and faults that must leave nothing behind.

Each test is one attack story of the red-team review, on the real CLI in a subprocess where a
person would meet it:

- a change too large for one tlog-tiles entry (uint16 length prefix) made the offline bundle
  impossible to export; now large changes are logged in parts, an oversized entry is refused
  when written, and a checker written here from the C2SP specs alone accepts the bundle;
- a full disk (RLIMIT_FSIZE: writes past the limit fail with EFBIG) while writing the bank file
  left a traceback and a temporary file full of card numbers;
- a demo killed mid-build (SIGKILL) left a database nothing could resume;
- `verify` on a read-only database (file and folder without write permission; a PostgreSQL
  database whose transactions are read-only) failed with "the database refused the change".
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import cbor2
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.models import AuditEntry
from ledger.models.registers import ListKind
from ledger.org import regions
from ledger.registers.external import ListRecord, record_list
from ledger.store.db import transaction
from tests.reliability import c2sp_bundle_check as c2sp
from tests.reliability.crash import (
    ROLL,
    SENT,
    _roll_transfers,
    check_consistent,
    fundtrail_exe,
    prepare,
)

LIMIT = 0xFFFF
VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "signed-note"


def _cli(ledger, *argv, preexec=None, wrap=(), env=None):
    return subprocess.run([*wrap, fundtrail_exe(), "--config", "fundtrail.toml", *argv],
                          cwd=ledger.workdir, env=env or ledger.env, capture_output=True,
                          text=True, timeout=300, preexec_fn=preexec)


def _one_clear_line(result, *words):
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert all(w in lines[0] for w in words), lines[0]


def _entries(ledger) -> list[bytes]:
    with transaction(ledger.factory()) as s:
        return [bytes(e) for e in s.execute(select(AuditEntry.entry)
                                            .order_by(AuditEntry.idx)).scalars()]


def _size(ledger) -> int:
    with transaction(ledger.factory()) as s:
        return s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


# ------------------------------------------------------------------ entries and the bundle


def test_large_changes_are_logged_in_parts_and_the_bundle_passes_an_independent_check(
        db_url, tmp_path):
    # A roll of 700 lines (Core rows, `add_written`) and a list of 500 records (ORM rows,
    # `add`): on main each was one entry of ≈ 80 kB and export-bundle died with a traceback.
    ledger = prepare(db_url, tmp_path / "books", lines=700)
    with transaction(ledger.factory()) as s:
        clerk = regions.get_user(s, "k_clerk")
        record_list(s, clerk, PiiVault.from_env(), kind=ListKind.BLACKLIST,
                    source="县纪委监委违规违纪通报", snapshot_date=SENT,
                    records=[ListRecord(line_no=n, name=f"通报对象{n}", category="违规套取补贴",
                                        org="某某镇人民政府", org_code=f"ORG{n:06d}")
                             for n in range(1, 501)])
    entries = _entries(ledger)
    assert max(map(len, entries)) <= LIMIT
    parts = {}
    for data in entries:
        body = cbor2.loads(data)
        if "part" in body[8]:
            parts.setdefault(body[6], []).append((body[8]["part"], "continued" in body[8]))
    for kind in ("roll.create", "external_list.import"):
        split = parts[kind]
        assert len(split) >= 2 and [p for p, _ in split] == list(range(1, len(split) + 1))
        assert [c for _, c in split] == [True] * (len(split) - 1) + [False]

    # An entry the format cannot hold is refused when written, and nothing is recorded.
    from ledger.audit.log import record_change
    before = _size(ledger)
    with pytest.raises(LedgerError) as refused, transaction(ledger.factory()) as s:
        with record_change(s, "k_clerk", "test.oversized", note="字" * 30_000):
            pass
    assert refused.value.code == "entry_too_large"
    assert refused.value.params["limit"] == LIMIT and refused.value.params["size"] > LIMIT
    assert _size(ledger) == before

    check_consistent(ledger)   # the project's own verify: parts bind their rows
    assert _cli(ledger, "checkpoint", "sign").returncode == 0
    exported = _cli(ledger, "export-bundle", "bundle")
    assert exported.returncode == 0, exported.stderr
    policy = (ledger.workdir / "keys/policy.txt").read_text(encoding="utf-8")
    report = c2sp.check_bundle(ledger.workdir / "bundle", policy)
    assert report.size == len(entries) and report.largest_entry <= LIMIT
    assert report.tiles_checked >= report.size // 256 + 1

    # The checker is itself held to independent vectors (golang.org/x/mod sumdb/note) where
    # the workplace's shared folder is there (a fresh CI clone has none: as in
    # tests/ledger/audit/test_note_vectors.py), and it notices a bundle altered after export.
    if (VECTORS / "vectors.json").is_file():
        vectors = json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))
        for case in vectors["verify"]:
            signed = [c2sp.note_signed_by(case["note"], c2sp.parse_vkey(k))
                      for k in case["verifier_keys"]]
            assert all(signed) is case["valid"], case["name"]
    bundle = ledger.workdir / "bundle" / "tile" / "entries" / "000"
    data = bytearray(bundle.read_bytes())
    data[-1] ^= 1
    bundle.write_bytes(bytes(data))
    with pytest.raises(c2sp.BundleProblem):
        c2sp.check_bundle(ledger.workdir / "bundle", policy)
    ledger.dispose()


# ------------------------------------------------------------------ a full disk


def _file_limit(limit):
    def preexec():
        # Past `limit` every write fails with EFBIG, as on a full volume (SIGXFSZ would kill
        # the process instead: ignored, as a shell with `ulimit -f` leaves it to the program).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def test_a_full_disk_while_writing_the_bank_file_leaves_no_card_numbers_and_no_send(
        db_url, tmp_path):
    ledger = prepare(db_url, tmp_path / "books", lines=150)
    send = ["--as", "k_clerk", "roll", "send", ROLL, "-o", "bank.csv", "--date",
            SENT.isoformat()]
    result = _cli(ledger, *send, preexec=_file_limit(4096))   # the file needs ≈ 9 kB
    _one_clear_line(result, "文件未写成", "bank.csv")
    assert [p.name for p in ledger.workdir.iterdir() if "bank" in p.name] == []
    with transaction(ledger.factory()) as s:   # the send is not half-recorded
        assert s.execute(select(func.count()).select_from(
            _roll_transfers().subquery())).scalar_one() == 0
    check_consistent(ledger)

    result = _cli(ledger, *send)     # room again: the same command completes
    assert result.returncode == 0, result.stderr
    bank = ledger.workdir / "bank.csv"
    assert len(bank.read_bytes().decode("gb18030").strip().splitlines()) == 151
    assert bank.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in ledger.workdir.iterdir() if "bank" in p.name] == ["bank.csv"]
    ledger.dispose()


# ------------------------------------------------------------------ a demo killed mid-build


def _users(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.1) as conn:
            return conn.execute("select count(*) from users").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_demo_killed_mid_build_says_what_to_do_and_restarts(tmp_path):
    path = tmp_path / "demo.db"
    env = {**os.environ, "FUNDTRAIL_DATABASE_URL": f"sqlite:///{path}"}
    demo = [fundtrail_exe(), "demo", "--seed", "1", "--households", "2"]
    proc = subprocess.Popen(demo, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _users(path) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)   # its first transaction (regions, users) is committed
    assert proc.wait() == -signal.SIGKILL
    assert _users(path) > 0

    again = subprocess.run(demo, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert "演示省没有建完" in again.stderr and "fundtrail demo --restart" in again.stderr

    restarted = subprocess.run([*demo, "--restart"], cwd=tmp_path, env=env,
                               capture_output=True, text=True)
    assert restarted.returncode == 0, restarted.stderr
    assert "demo province built" in restarted.stdout
    verified = subprocess.run([fundtrail_exe(), "verify", "--json"], cwd=tmp_path, env=env,
                              capture_output=True, text=True)
    assert verified.returncode == 0 and json.loads(verified.stdout)["intact"]

    # A complete province is never deleted by --restart.
    refused = subprocess.run([*demo, "--restart"], cwd=tmp_path, env=env,
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "complete demo province" in refused.stderr
    assert path.exists()


# ------------------------------------------------------------------ a read-only database


def _without_override():
    """Run as this user but bound by file permissions: root normally ignores them."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be made to bind")
    return (setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner")


def test_verify_and_reads_work_on_a_read_only_database(db_url, tmp_path):
    ledger = prepare(db_url, tmp_path / "books", lines=20)
    assert _cli(ledger, "checkpoint", "sign").returncode == 0
    ledger.dispose()
    wrap, restore = (), None
    if db_url.startswith("sqlite"):
        wrap = _without_override()
        db = Path(make_url(db_url).database)
        for leftover in (Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert not leftover.exists()   # closed cleanly: the WAL was checkpointed
        db.chmod(0o444)
        db.parent.chmod(0o555)

        def restore():
            db.parent.chmod(0o755)
            db.chmod(0o644)
    else:
        name = make_url(db_url).database
        admin = create_engine(make_url(db_url).set(database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))

        def restore():
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
            admin.dispose()
    try:
        verified = _cli(ledger, "verify", "--json", wrap=wrap)
        assert verified.returncode == 0, verified.stderr
        assert json.loads(verified.stdout)["intact"]
        balance = _cli(ledger, "trial-balance", wrap=wrap)
        assert balance.returncode == 0 and "balanced" in balance.stdout, balance.stderr
        held = _cli(ledger, "balances", "--kind", "unit", wrap=wrap)
        assert held.returncode == 0 and held.stdout.strip(), held.stderr
        # A change is refused in one line that says why, not with a traceback.
        send = _cli(ledger, "--as", "k_clerk", "roll", "send", ROLL, "-o", "bank.csv",
                    "--date", SENT.isoformat(), wrap=wrap)
        _one_clear_line(send, "read-only")
        assert not (ledger.workdir / "bank.csv").exists()
    finally:
        restore()
