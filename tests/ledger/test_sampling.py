"""Field-check samples: committed before the randomness exists, drawn from the first checkpoint
after the commitment, reproducible from the published frame and checkpoint alone."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit import checkpoints as cps
from ledger.audit.tlog.checkpoint import (
    Checkpoint,
    CosignatureSigner,
    add_signatures,
    cosign,
    sign_checkpoint,
)
from ledger.audit.tlog.note import Ed25519Signer
from ledger.audit.verify import verify
from ledger.core.errors import LedgerError, PermissionDenied
from ledger.core.pii import PiiVault
from ledger.households import registry as households
from ledger.models import HouseholdStatus, RegionLevel
from ledger.models.oversight import SampleStrata
from ledger.org import regions
from ledger.oversight import sampling
from ledger.oversight.sampling_verify import (
    SampleError,
    allocate,
    canonical_json,
    rank_key,
    recompute,
    sample_seed,
)
from ledger.store.db import transaction
from tests.world import COUNTY, TOWNSHIP, VILLAGE

ORIGIN = "fundtrail.example/demo-province"
VILLAGE_B = "430121001002"
RISKY = {"H-A03", "H-A07", "H-B02"}


# ----------------------------------------------------------------------------- pure algorithm

@given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 5)), min_size=1, max_size=8),
       st.data())
def test_allocation_sums_exactly_and_respects_stratum_sizes(sizes, data):
    strata = [(f"s{i:02d}", n, w) for i, (n, w) in enumerate(sizes)]
    total = data.draw(st.integers(0, sum(n for _, n, _ in strata)))
    shares = allocate(total, strata)
    assert sum(shares.values()) == total
    assert all(0 <= shares[name] <= n for name, n, _ in strata)
    # proportional up to rounding: no uncapped stratum is more than one short of its quota
    uncapped = [(name, n, w) for name, n, w in strata if shares[name] < n]
    if uncapped and total:
        weight = sum(n * w for _, n, w in strata)
        assert all(shares[name] + 1 > total * n * w / weight - 1e-9
                   for name, n, w in uncapped)


def test_allocation_refuses_more_than_the_frame():
    with pytest.raises(SampleError, match="exceeds"):
        allocate(11, [("a", 5, 1), ("b", 5, 3)])
    assert allocate(10, [("a", 5, 1), ("b", 5, 3)]) == {"a": 5, "b": 5}
    assert allocate(4, [("a", 10, 1), ("b", 10, 3)]) == {"a": 1, "b": 3}


def _frame(codes: list[str], take: int, index: int = 5, beacon=None) -> bytes:
    frame = {"format": "fundtrail-sample-frame/1", "origin": ORIGIN, "county": COUNTY,
             "beacon": beacon,
             "size": take, "strata_mode": "village", "risk_weight": 1,
             "commitment_log_index": index, "as_of": "2024-03-15",
             "strata": [{"name": VILLAGE, "village": VILLAGE, "risk": False, "weight": 1,
                         "households": sorted(codes), "take": take}]}
    return canonical_json(frame)


CODES = [f"H-{i:04d}" for i in range(200)]


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_the_sample_changes_completely_with_the_checkpoint(root_a, root_b):
    frame = _frame(CODES, 20)
    note_a = Checkpoint(ORIGIN, 9, root_a).to_text()
    seed_a, visits_a = recompute(frame, note_a)
    assert recompute(frame, note_a) == (seed_a, visits_a)       # a function of public data
    if root_a == root_b:
        return
    seed_b, visits_b = recompute(frame, Checkpoint(ORIGIN, 9, root_b).to_text())
    # every household's rank key changes, so the order is drawn afresh, not shifted
    assert all(rank_key(seed_a, c) != rank_key(seed_b, c) for c in CODES)
    drawn_a = {v["household"] for v in visits_a}
    drawn_b = {v["household"] for v in visits_b}
    assert drawn_a != drawn_b and len(drawn_a & drawn_b) < 12


def test_a_checkpoint_that_does_not_cover_the_commitment_is_refused():
    frame = _frame(CODES, 3, index=9)
    with pytest.raises(SampleError, match="existed before the frame was fixed"):
        recompute(frame, Checkpoint(ORIGIN, 9, bytes(range(32))).to_text())
    with pytest.raises(SampleError, match="of log"):
        recompute(frame, Checkpoint("other.example/log", 10, bytes(32)).to_text())
    edited = frame.replace(b'"take":3', b'"take":4')
    with pytest.raises(SampleError, match="allocation gives 3"):
        recompute(edited, Checkpoint(ORIGIN, 10, bytes(32)).to_text())
    with pytest.raises(SampleError, match="canonical"):
        recompute(json.dumps(json.loads(frame), indent=1).encode(),
                  Checkpoint(ORIGIN, 10, bytes(32)).to_text())


def test_a_beacon_witness_cosignature_enters_the_seed():
    log = Ed25519Signer.generate(ORIGIN)
    witness = CosignatureSigner.generate("audit-office.example")
    frame = _frame(CODES, 5, beacon={"witness": "audit", "vkey": witness.vkey})
    note = sign_checkpoint(Checkpoint(ORIGIN, 9, bytes(range(32))), log)
    with pytest.raises(SampleError, match="no valid cosignature from the beacon witness"):
        recompute(frame, note)
    seed, visits = recompute(frame, add_signatures(note, [cosign(note, witness, 1_700_000_000)]))
    assert len(visits) == 5
    assert recompute(_frame(CODES, 5), note)[0] != seed      # the beacon changes the seed
    impostor = CosignatureSigner.generate("audit-office.example")
    with pytest.raises(SampleError, match="beacon witness"):
        recompute(frame, add_signatures(note, [cosign(note, impostor, 1_700_000_000)]))


# ----------------------------------------------------------------------------- in the ledger

@pytest.fixture
def county(world):
    """Two villages in the county: 12 and 8 registered households, one removed (清退)."""
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        regions.add_region(s, world.user(s, "admin"), code=VILLAGE_B, name="黄兴村",
                           level=RegionLevel.VILLAGE, parent_code=TOWNSHIP)
    with transaction(world.factory) as s:
        clerk = world.user(s, "k_clerk")
        for prefix, village, count in (("A", VILLAGE, 12), ("B", VILLAGE_B, 8)):
            for i in range(1, count + 1):
                households.register_household(
                    s, clerk, vault, code=f"H-{prefix}{i:02d}", village_code=village,
                    head_name=f"户主{prefix}{i}", status=HouseholdStatus.REGISTERED,
                    registered_on=dt.date(2019, 5, 1))
        households.register_household(s, clerk, vault, code="H-X01", village_code=VILLAGE_B,
                                      head_name="清退户", status=HouseholdStatus.REMOVED,
                                      registered_on=dt.date(2019, 5, 1))
    return world


def sign(session):
    return cps.sign(session, Ed25519Signer.generate(ORIGIN))


def test_commit_then_draw_then_anyone_recomputes(county):
    world = county
    with transaction(world.factory) as s:
        with pytest.raises(PermissionDenied):   # the county does not choose its own checks
            sampling.commit_sample(s, world.user(s, "k_clerk"), county_code=COUNTY, size=6)
        early = sign(s)
        commitment = sampling.commit_sample(
            s, world.user(s, "auditor"), county_code=COUNTY, size=6,
            strata=SampleStrata.VILLAGE_RISK, risk_codes=RISKY | {"H-201"}, risk_weight=3)
        cid = commitment.id
        frame = json.loads(commitment.frame)
        assert frame["commitment_log_index"] == commitment.log_index
        takes = {x["name"]: (len(x["households"]), x["take"]) for x in frame["strata"]}
        assert takes == {f"{VILLAGE}:other": (10, 2), f"{VILLAGE}:risk": (2, 1),
                         f"{VILLAGE_B}:other": (7, 2), f"{VILLAGE_B}:risk": (1, 1)}
        assert "H-X01" not in commitment.frame and "H-201" not in commitment.frame
        early_note = cps.with_cosignatures(s, early)

    with transaction(world.factory) as s:
        auditor = world.user(s, "auditor")
        with pytest.raises(LedgerError, match="run `fundtrail checkpoint sign`"):
            sampling.draw_sample(s, auditor, cid)
        with pytest.raises(LedgerError, match="older than the commitment"):
            sampling.draw_sample(s, auditor, cid, checkpoint_note=early_note)
    with transaction(world.factory) as s:
        first = sign(s)
    with transaction(world.factory) as s:
        # the log grows and a later checkpoint is signed: it may not be picked instead
        sampling.commit_sample(s, world.user(s, "auditor"), county_code=COUNTY, size=1)
        sign(s)
        with pytest.raises(LedgerError, match=f"first checkpoint after the commitment "
                                              f"\\(size {first.size}\\)"):
            sampling.draw_sample(s, world.user(s, "auditor"), cid,
                                 checkpoint_note=cps.with_cosignatures(s, cps.latest(s)))
        drawn = sampling.draw_sample(s, world.user(s, "auditor"), cid)
        assert drawn.checkpoint_size == first.size and len(drawn.households) == 6
        with pytest.raises(LedgerError, match="drawn already"):
            sampling.draw_sample(s, world.user(s, "auditor"), cid)

    with transaction(world.factory) as s:
        frame_text, note = sampling.published(s, world.user(s, "auditor"), cid)
        _, visits = recompute(frame_text.encode(), note)
        assert [[v["stratum"], v["household"]] for v in visits] == drawn.households
        assert verify(s).intact


def test_the_draw_waits_for_the_policy_quorum(county, tmp_path):
    world = county
    log = Ed25519Signer.generate(ORIGIN)
    witness = CosignatureSigner.generate("audit-office.example")
    policy = f"log {log.vkey}\nwitness audit {witness.vkey}\nquorum audit\n"
    with transaction(world.factory) as s:
        cid = sampling.commit_sample(s, world.user(s, "auditor"), county_code=COUNTY,
                                     size=3, policy_text=policy).id
        cps.sign(s, log)
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError, match="fundtrail checkpoint cosign"):
            sampling.draw_sample(s, world.user(s, "auditor"), cid, policy_text=policy)
        # the log grows before the witness comes: it cosigns the newest checkpoint, which is
        # then the first after the commitment to count
        sampling.commit_sample(s, world.user(s, "auditor"), county_code=COUNTY, size=1)
        counted = cps.sign(s, log)
        cps.cosign_latest(s, witness, [log.verifier()], tmp_path / "audit.state", fresh=True)
    with transaction(world.factory) as s:
        # the policy is the committed one: neither none nor another may be used to choose
        with pytest.raises(LedgerError, match="give that same file"):
            sampling.draw_sample(s, world.user(s, "auditor"), cid)
        with pytest.raises(LedgerError, match="give that same file"):
            sampling.draw_sample(s, world.user(s, "auditor"), cid,
                                 policy_text=policy.replace("quorum audit", "quorum none"))
        drawn = sampling.draw_sample(s, world.user(s, "auditor"), cid, policy_text=policy)
        assert drawn.checkpoint_size == counted.size
        frame_text, note = sampling.published(s, world.user(s, "auditor"), cid)
    assert recompute(frame_text.encode(), note, policy)[1]
    with pytest.raises(SampleError, match="give that file with --policy"):
        recompute(frame_text.encode(), note)  # the frame names a policy: signatures must be checked


# ----------------------------------------------------------------------------- command line

@pytest.fixture
def ft(cli, db_url, county, monkeypatch, tmp_path):
    monkeypatch.setenv("FUNDTRAIL_SIGNING_PASSPHRASE", "correct horse battery staple")

    run = cli
    return run


def test_sample_commands_and_the_standalone_verifier(ft, tmp_path):
    (tmp_path / "risk.txt").write_text("户编码\nH-A03\nH-B02\n", encoding="utf-8")
    code, out, err = ft("--as", "auditor", "sample", "commit", "--county", COUNTY, "--size", 5,
                        "--strata", "village+risk", "--risk-file", "risk.txt", "--json")
    assert code == 0, err
    cid = json.loads(out)["id"]
    code, _, err = ft("--as", "auditor", "sample", "draw", cid)
    assert code == 2 and "fundtrail checkpoint sign" in err
    assert ft("keygen", "--kind", "log", "--out", "keys/log.key")[0] == 0
    assert ft("checkpoint", "sign")[0] == 0
    code, out, err = ft("--as", "auditor", "sample", "draw", cid)
    assert code == 0 and "5 households drawn" in out, err
    code, out, _ = ft("--as", "auditor", "sample", "visits", cid, "--csv", "visits.csv",
                      "--json")
    visits = json.loads(out)
    assert code == 0 and len(visits) == 5 and (tmp_path / "visits.csv").exists()
    first, second = visits[0]["household"], visits[1]["household"]
    assert ft("--as", "auditor", "sample", "visit", cid, "--household", first,
              "--confirmed", "--date", "2024-04-01")[0] == 0
    code, _, err = ft("--as", "auditor", "sample", "visit", cid, "--household", second,
                      "--discrepancy", "--date", "2024-04-01")
    assert code == 2 and "needs details" in err
    assert ft("--as", "auditor", "sample", "visit", cid, "--household", second,
              "--discrepancy", "--details", "户主称未收到2024年产业奖补", "--date",
              "2024-04-01")[0] == 0
    code, _, err = ft("--as", "auditor", "sample", "visit", cid, "--household", "H-X01",
                      "--confirmed")
    assert code == 2 and "was not drawn" in err
    code, out, _ = ft("sample", "discrepancies", "--json")
    assert code == 1 and [r["household"] for r in json.loads(out)] == [second]

    assert ft("--as", "k_clerk", "sample", "visits", cid)[0] == 2   # the county checked
    assert ft("--as", "auditor", "sample", "publish", cid, "--out", "pub")[0] == 0
    code, out, _ = ft("sample", "verify", "--frame", "pub/frame.json", "--checkpoint",
                      "pub/checkpoint.txt", "--id", cid, "--json")
    # the list is recomputed, but without a policy nobody checked who signed the checkpoint
    assert code == 1 and json.loads(out)["matches_ledger"] is True
    assert json.loads(out)["signatures_checked"] is False

    # the standalone verifier needs neither the database nor SQLAlchemy
    script = ("import sys, ledger.oversight.sampling_verify as v; code = v.main(sys.argv[1:]); "
              "assert 'sqlalchemy' not in sys.modules and 'cbor2' not in sys.modules; "
              "sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", script, "pub/frame.json",
                             "pub/checkpoint.txt", "--json"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 1 and "NOT VERIFIED" in result.stderr, result.stderr
    assert [v["household"] for v in json.loads(result.stdout)["visits"]] == \
        [v["household"] for v in visits]

    # the inspector's pack: the visit list and each drawn household's card (明白卡)
    code, out, err = ft("--as", "auditor", "report", "visit-cards", "--sample", cid, "--year",
                        "2024", "-o", "pack", "--json")
    assert code == 0, err
    pack = json.loads(out)["visits"]
    assert [v["household"] for v in pack] == [v["household"] for v in visits]
    text = subprocess.run(["pdftotext", f"pack/{pack[0]['card']}", "-"], capture_output=True,
                          text=True, cwd=tmp_path, check=True).stdout
    assert "明白卡" in text and pack[0]["household"] in text
    rows = (tmp_path / "pack/visits.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 6 and rows[1].startswith(f"1,{pack[0]['household']},")
    assert ft("--as", "k_clerk", "report", "visit-cards", "--sample", cid, "-o", "x")[0] == 2


def test_seed_is_domain_separated():
    root, digest = bytes(range(32)), bytes(range(32, 64))
    import hashlib
    assert sample_seed(root, digest) == hashlib.sha256(
        b"fundtrail/sample/v1\x00" + root + digest).digest()
    assert sample_seed(root, digest) != hashlib.sha256(root + digest).digest()


def test_a_sample_with_a_beacon_witness_from_the_command_line(ft, tmp_path):
    code, log_vkey, _ = ft("keygen", "--kind", "log", "--out", "keys/log.key")
    assert code == 0
    code, vkey, _ = ft("keygen", "--kind", "cosigner", "--name", "audit-office.example",
                       "--out", "keys/audit.key")
    assert code == 0
    (tmp_path / "keys/policy.txt").write_text(
        f"log {log_vkey.strip()}\nwitness audit {vkey.strip()}\nquorum none\n",
        encoding="utf-8")
    code, _, err = ft("--as", "auditor", "sample", "commit", "--county", COUNTY, "--size", 4,
                      "--beacon", "nobody")
    assert code == 2 and "not a witness" in err
    code, out, err = ft("--as", "auditor", "sample", "commit", "--county", COUNTY, "--size", 4,
                        "--beacon", "audit", "--json")
    assert code == 0, err
    cid = json.loads(out)["id"]
    assert ft("checkpoint", "sign")[0] == 0
    code, _, err = ft("--as", "auditor", "sample", "draw", cid)
    assert code == 2 and "fundtrail checkpoint cosign" in err
    code, _, err = ft("checkpoint", "cosign", "--key", "keys/audit.key", "--state",
                      "keys/audit.state", "--fresh")
    assert code == 0, err
    code, out, err = ft("--as", "auditor", "sample", "draw", cid)
    assert code == 0 and "4 households drawn" in out, err
    assert ft("--as", "auditor", "sample", "publish", cid, "--out", "pub")[0] == 0
    code, out, err = ft("sample", "verify", "--frame", "pub/frame.json", "--checkpoint",
                        "pub/checkpoint.txt", "--policy", "keys/policy.txt", "--id", cid)
    assert code == 0 and "matches" in out, err
