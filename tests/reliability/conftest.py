"""Fixtures the red team's stories share."""
from __future__ import annotations

import pytest


@pytest.fixture
def ft(cli, world, monkeypatch, tmp_path):
    """The command line on the small province, with a log key and a policy (quorum none),
    for exporting the offline bundle (`bundle_findings`)."""
    monkeypatch.setenv("FUNDTRAIL_SIGNING_PASSPHRASE", "correct horse battery staple")
    code, vkey, err = cli("keygen", "--kind", "log", "--out", "keys/log.key")
    assert code == 0, err
    (tmp_path / "keys" / "policy.txt").write_text(f"log {vkey.strip()}\nquorum none\n",
                                                  encoding="utf-8")
    return cli


def bundle_findings(ft, tmp_path, name) -> str:
    """What the offline bundle verifier says of the log as it is now (a checkpoint signed,
    the bundle exported to tmp_path/NAME)."""
    from ledger.audit.tlog.verify_bundle import verify
    assert ft("checkpoint", "sign")[0] == 0
    code, _, err = ft("export-bundle", name)
    assert code == 0, err
    return verify(tmp_path / name, tmp_path / "keys" / "policy.txt").to_text()
