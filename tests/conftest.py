"""Database fixtures: each test gets a fresh, migrated database on SQLite and on PostgreSQL.

SQLite: a migrated template file is copied per test. PostgreSQL: a template database is
migrated once per test process and cloned (CREATE DATABASE … TEMPLATE) per test, then dropped.
PostgreSQL tests skip only when no server is reachable and CI is unset; in CI they fail.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import uuid

import pytest
from sqlalchemy import create_engine, text

from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.store import migrate
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker

# Sessions of this file write to the demo log unless they say otherwise.
TEST_CONTEXT = LedgerContext(DEMO_LOG_ORIGIN)


def _shared_bytecode() -> None:
    """The suite starts the command line in a subprocess a few hundred times (the README's
    tour alone about 85 times). Where PYTHONDONTWRITEBYTECODE keeps Python from caching
    compiled modules next to their source, every one of those processes compiled the ledger's
    modules again: a seventh of its start-up. They share a bytecode cache in the temporary
    folder instead (PYTHONPYCACHEPREFIX), which leaves the checkout as clean as before. Set
    here, at import, so that the xdist workers and every subprocess inherit it."""
    import tempfile
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
        folder = os.path.join(tempfile.gettempdir(), f"fundtrail-test-pycache-{os.getuid()}")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.lstat(folder)
        # Another user could have made the folder first and planted compiled modules in it:
        # share only a real folder of our own that nobody else can write.
        import stat
        if (not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid()
                or st.st_mode & 0o022):
            return
        os.environ["PYTHONPYCACHEPREFIX"] = folder
        del os.environ["PYTHONDONTWRITEBYTECODE"]
        # and this process, for the modules it has yet to import (pytest's rewritten test
        # modules too: it keeps them under the same prefix)
        sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"]
        sys.dont_write_bytecode = False


_shared_bytecode()


def pytest_collection_modifyitems(config, items):
    """Two things the schedule needs (pyproject.toml, [tool.pytest.ini_options]):

    - `sqlite_only`: a test so marked runs on SQLite only, though it asks for `db_url`;
    - `slow` first: the two xdist workers take the long tests (the README tour, the bench
      smoke run, the browser tests…) at the start and share the short ones after, instead of
      one worker starting a two-minute test when the other has nothing left to do.
    """
    kept, dropped = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        if (item.get_closest_marker("sqlite_only") is not None and params is not None
                and params.params.get("db_url", "sqlite") != "sqlite"):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    # sorted() is stable: within each group the collection order stays
    items[:] = sorted(kept, key=lambda item: item.get_closest_marker("slow") is None)

PG_ADMIN_URL = os.environ.get(
    "FUNDTRAIL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_admin_engine():
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_reachable() -> str | None:
    try:
        with _pg_admin_engine().connect() as conn:
            conn.execute(text("select 1"))
        return None
    except Exception as exc:  # any connection failure means: no server here
        return str(exc).splitlines()[0]


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


@pytest.fixture(autouse=True)
def cli_language(request, monkeypatch):
    """The command line speaks Chinese unless FUNDTRAIL_LANG says otherwise. Tests written
    against its English lines run in English (their lines are the `en` catalog's); a test
    marked `chinese` runs as a county's staff would, in the default language, and the web
    takes each visitor's language from its cookie whatever this says."""
    if request.node.get_closest_marker("chinese") is None:
        monkeypatch.setenv("FUNDTRAIL_LANG", "en")
    else:
        monkeypatch.delenv("FUNDTRAIL_LANG", raising=False)


@pytest.fixture(autouse=True)
def pii_keys(monkeypatch):
    """Test keys for personal data (real deployments set their own in the environment)."""
    from ledger.core.pii import new_key
    monkeypatch.setenv("FUNDTRAIL_PII_KEYS", new_key())
    monkeypatch.setenv("FUNDTRAIL_PII_INDEX_KEY", "test-index-key-" + "x" * 32)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template():
    problem = _pg_reachable()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}")
    name = f"ft_tmpl_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_pg_url(name))
    migrate.upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _throwaway_pg(prefix: str, template: str | None = None):
    """Create a PostgreSQL database for one test, yield its URL, drop it afterwards."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fresh_pg_url(pg_template):
    """A new, migrated PostgreSQL database for one test (dropped afterwards)."""
    yield from _throwaway_pg("ft", pg_template)


@pytest.fixture
def empty_pg_url(pg_template):
    """A new PostgreSQL database with no schema at all (for migration tests)."""
    yield from _throwaway_pg("ft_empty")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh migrated database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "ledger.store.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("fresh_pg_url")


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine, personal_key_dir):
    """Sessions on this test's database. Services called through them in the name of someone
    whose key a command of this test enrolled are signed with that key, as the command line
    would sign them (see "personal keys" below)."""
    from ledger.audit.log import SIGNER
    factory = make_sessionmaker(engine, TEST_CONTEXT)
    factory.kw["info"][SIGNER] = TestPeople(personal_key_dir)
    return factory


@pytest.fixture
def cli(db_url, monkeypatch, capsys, tmp_path):
    """The command line on this test's database, run in tmp_path: cli(*args) → (code, out, err).

    Fixtures that prepare books for a command-line test build on this one."""
    from ledger.cli.root import main
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)

    def run(*args):
        argv = [str(a) for a in args]
        with on_its_date(argv):
            code = main(argv)
        out = capsys.readouterr()
        if code == 0:
            second_eyes(argv, out.out, main, capsys)
        return code, out.out, out.err
    return run


def second_eyes(argv, out, main, capsys) -> None:
    """Approve, as `test-key-officer`, an administration request (`user add`, `user password`
    …) that a test's administrator filed only because the harness made the ledger's second
    administrator (see "personal keys" below): the test asked for the change itself, as in a
    ledger with one administrator. Where the test has a second administrator of its own, its
    requests wait for that person, as four eyes require (tests/reliability/
    test_sessions_and_admin.py)."""
    import re

    from sqlalchemy import select

    from ledger.models import Role, User
    from ledger.store.db import make_engine, make_sessionmaker, transaction
    filed = re.search(r"^request (\d+) \(user\.", out, re.M)
    if not filed or "--as" not in argv:
        return
    requester = argv[argv.index("--as") + 1]
    factory = make_sessionmaker(make_engine(os.environ["FUNDTRAIL_DATABASE_URL"]), TEST_CONTEXT)
    with transaction(factory) as s:
        others = set(s.execute(select(User.username).where(
            User.role == Role.ADMIN, User.username != requester)).scalars())
    if others != {KEY_OFFICER}:
        return
    assert main(["--as", KEY_OFFICER, "user", "approve", filed.group(1)]) == 0
    capsys.readouterr()


def on_its_date(argv: list[str]):
    """A roll step of these tests' world is recorded on the day it names (`--date`), as a
    county using the ledger records it: the server's clock (ledger.core.clock) is set to that
    day, so the publicity window counts as it would have. Other commands run on the real
    clock; tests/reliability/test_backdating.py runs roll steps on the real clock too."""
    from contextlib import nullcontext

    from ledger.core import clock
    if "roll" not in argv or "--date" not in argv:
        return nullcontext()
    day = dt.date.fromisoformat(argv[argv.index("--date") + 1])
    # a date after today is one somebody typed, not a day the world has reached
    return clock.at(day) if day <= dt.date.today() else nullcontext()


@pytest.fixture
def world(factory):
    """A small province with users at each level (see tests/world.py)."""
    from tests.world import build_world
    return build_world(factory)


# --------------------------------------------------------------------------- personal keys
#
# Changes made through the command line are signed with the acting person's key file
# (docs/signatures.md). Tests act as many people, created in many ways (tests/world.py, `init`,
# `user add`), so instead of each test enrolling keys, every in-process command enrols one for
# its `--as` user first, the way an officer would: a key file in FUNDTRAIL_KEY_DIR, requested
# by one administrator and approved by another (a second administrator, `test-key-officer`, is
# added when the books have only one). Commands run in a subprocess get the same key folder
# through the environment; `enrol_test_keys` enrols their users beforehand.

TEST_KEY_PASSPHRASE = "test key passphrase"
KEY_OFFICER = "test-key-officer"


@pytest.fixture(autouse=True)
def personal_key_dir(tmp_path_factory, monkeypatch):
    """A key folder of this test's people (FUNDTRAIL_KEY_DIR, FUNDTRAIL_KEY_PASSPHRASE), and
    the command line enrolling a key for whoever acts (see above)."""
    from sqlalchemy.exc import NoSuchTableError, OperationalError, ProgrammingError

    from ledger.cli import params
    folder = tmp_path_factory.mktemp("people-keys")
    monkeypatch.setenv(params.KEY_DIR_ENV, str(folder))
    monkeypatch.setenv(params.PASSPHRASE_ENV, TEST_KEY_PASSPHRASE)
    monkeypatch.delenv(params.KEY_ENV, raising=False)
    original_key_file, original_init = params.Context.key_file, params.Context.__init__

    def ours():   # a script under test (load.sh) may keep its own key folder
        return os.environ.get(params.KEY_DIR_ENV) == str(folder)

    def key_file(self, username=None):
        name = username or self.username
        if not self.key_path and name and ours():
            ensure_key_file(folder, name)
        return original_key_file(self, username)

    def init(self, config_path, username, key_path=None):
        original_init(self, config_path, username, key_path)
        if username and not key_path and ours():
            try:
                enrol_test_keys(self.factory, [username], folder)
            except (NoSuchTableError, OperationalError, ProgrammingError):
                pass   # no schema yet: the command itself says so

    monkeypatch.setattr(params.Context, "key_file", key_file)
    monkeypatch.setattr(params.Context, "__init__", init)
    return folder


def ensure_key_file(folder, username: str):
    """FOLDER/<username>.key, made if missing."""
    from pathlib import Path

    from ledger.org.personal_keys import new_private_key, write_key_file
    path = Path(folder) / f"{username}.key"
    if not path.exists():
        write_key_file(path, new_private_key(), TEST_KEY_PASSPHRASE)
    return path


# folder → {username: signer} of the keys `enrol_test_keys` enrolled or found valid
_ENROLLED: dict[str, dict] = {}


class TestPeople:
    """Signs for the people whose keys this test enrolled (a test's own key folder)."""

    def __init__(self, folder):
        self.folder = str(folder)

    def speaks_for(self, actor):
        return actor in _ENROLLED.get(self.folder, {})

    def authorise(self, actor, kind, details, tbs):
        return _ENROLLED[self.folder][actor].authorise(actor, kind, details, tbs)


class _FolderSigner:
    """Signs for every person whose key file in the folder is a valid key of theirs."""

    def __init__(self, session, folder):
        self.session, self.folder, self.signers = session, folder, {}

    def _signer(self, actor):
        from pathlib import Path

        from ledger.org.personal_keys import KeyFileSigner, read_key_file, valid_key
        if actor not in self.signers:
            path = Path(self.folder) / f"{actor}.key"
            signer = None
            if path.exists():
                signer = KeyFileSigner(actor, read_key_file(path, TEST_KEY_PASSPHRASE))
                if valid_key(self.session, actor, signer.key_id) is None:
                    signer = None
            self.signers[actor] = signer
        return self.signers[actor]

    def speaks_for(self, actor):
        return self._signer(actor) is not None

    def authorise(self, actor, kind, details, tbs):
        return self._signer(actor).authorise(actor, kind, details, tbs)


def enrol_test_keys(factory, usernames, folder) -> None:
    """Enrol FOLDER/<username>.key (made if missing) for each existing user without a valid
    key of that file, four-eyes, in one committed transaction."""
    from sqlalchemy import select

    from ledger.audit.log import install_signer, record_change
    from ledger.models import Role, User
    from ledger.org import personal_keys
    from ledger.store.access import in_scope
    from ledger.store.db import transaction
    with transaction(factory) as s:
        for username in usernames:
            user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
            if user is None:
                continue
            path = ensure_key_file(folder, username)
            key = personal_keys.read_key_file(path, TEST_KEY_PASSPHRASE)
            public, key_id, proof = personal_keys.proof_of_possession(s, key, username)
            signer = personal_keys.KeyFileSigner(username, key)
            if personal_keys.valid_key(s, username, key_id) is not None:
                _ENROLLED.setdefault(str(folder), {})[username] = signer
                continue
            if any(k.key_id == key_id for k in personal_keys.keys_of(s, username)):
                _ENROLLED.get(str(folder), {}).pop(username, None)
                continue    # revoked by the test: it stays revoked
            install_signer(s, _FolderSigner(s, folder))
            admins = list(s.execute(select(User).where(User.role == Role.ADMIN)
                                    .order_by(User.id)).scalars())
            if not admins:
                return
            requester = admins[0]
            approver = next((a for a in admins
                             if a.id != requester.id and a.username != username
                             and in_scope(s, a, user.region_code)), None)
            if username == KEY_OFFICER:
                # the second administrator asks for their own first key (the one unsigned
                # write a person without a key may make) and the first approves it
                requester, approver = user, admins[0]
            if approver is None:
                with record_change(s, requester.username, "user.add") as change:
                    approver = User(username=KEY_OFFICER, display_name="测试密钥管理员",
                                    role=Role.ADMIN, region_code=requester.region_code)
                    change.add(approver)
            request = personal_keys.request_enrolment(s, requester, username, "ed25519",
                                                      public, proof)
            personal_keys.approve_enrolment(s, approver, request)
            install_signer(s, None)
            _ENROLLED.setdefault(str(folder), {})[username] = signer

