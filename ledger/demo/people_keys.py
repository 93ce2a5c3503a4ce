"""The demo's people sign their entries (docs/signatures.md): a key file for each user in the
demo's key folder, encrypted with the demo's passphrase, enrolled the way officers do it.

`fundtrail init`'s genesis key goes to the first administrator right after the bootstrap
entry (`genesis`). When the province is built, a second administrator asks for their own
key and the first approves it; then each other person's key is requested by the first
administrator and approved by the second, every entry signed by the administrator who writes
it. The demo's history before that was written by people who held no key yet: counted as
unsigned by `fundtrail verify`, not a finding (unless a policy requires signatures).
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ledger.audit.log import install_signer
from ledger.models import Role, User
from ledger.org import personal_keys, regions
from ledger.store.db import transaction

SECOND_ADMIN = "admin2"


class People:
    """Signs for each person whose key is already enrolled (a dict of their signers): from
    the genesis entry on, the first administrator's entries are signed."""

    def __init__(self):
        self.signers: dict[str, personal_keys.KeyFileSigner] = {}

    def speaks_for(self, actor: str) -> bool:
        return actor in self.signers

    def authorise(self, actor, kind, details, tbs):
        return self.signers[actor].authorise(actor, kind, details, tbs)


def signing(factory, people: People):
    """`factory`, with `people` signing in every session it opens."""
    def open_session():
        session = factory()
        install_signer(session, people)
        return session
    return open_session


def key_path(folder: str | Path, username: str) -> Path:
    return Path(folder) / f"{username}.key"


def _key(folder, username: str, passphrase: str):
    path = key_path(folder, username)
    if path.exists():
        return personal_keys.read_key_file(path, passphrase)
    key = personal_keys.new_private_key()
    personal_keys.write_key_file(path, key, passphrase)
    return key


def genesis(session, folder: str | Path, passphrase: str, admin_username: str,
            people: People) -> str:
    """The first administrator's key, in the entry after the bootstrap entry; they sign
    every later entry of theirs."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    key = _key(folder, admin_username, passphrase)
    public, _key_id, proof = personal_keys.proof_of_possession(session, key, admin_username)
    key_id = personal_keys.enrol_genesis(session, admin_username, public, proof)
    people.signers[admin_username] = personal_keys.KeyFileSigner(admin_username, key)
    return key_id


def enrol_everyone(factory, folder: str | Path, passphrase: str, admin_username: str,
                   people: People) -> int:
    """A second administrator, then a key for every user without one; returns how many keys.
    `factory` signs with `people` (see `signing`)."""
    enrolled = 0
    with transaction(factory) as s:
        admin = regions.get_user(s, admin_username)
        second = regions.add_user(s, admin, username=SECOND_ADMIN, display_name="省财政厅安全管理员",
                                  role=Role.ADMIN, region_code=admin.region_code)
        key = _key(folder, SECOND_ADMIN, passphrase)
        public, _key_id, proof = personal_keys.proof_of_possession(s, key, SECOND_ADMIN)
        request = personal_keys.request_enrolment(s, second, SECOND_ADMIN, "ed25519", public,
                                                  proof)
        personal_keys.approve_enrolment(s, admin, request)
        people.signers[SECOND_ADMIN] = personal_keys.KeyFileSigner(SECOND_ADMIN, key)
        enrolled += 1
        holders = personal_keys.key_holders(s)
        for user in s.execute(select(User).order_by(User.id)).scalars().all():
            if user.username in holders or user.username in people.signers:
                continue
            key = _key(folder, user.username, passphrase)
            public, _key_id, proof = personal_keys.proof_of_possession(s, key, user.username)
            request = personal_keys.request_enrolment(s, admin, user.username, "ed25519",
                                                      public, proof)
            personal_keys.approve_enrolment(s, second, request)
            enrolled += 1
    return enrolled
