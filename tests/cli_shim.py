"""A `fundtrail` on the PATH of a script under test that the test process itself answers.

Scripts the suite runs as written (examples/yuanxi-county/load.sh, scripts/demo.sh and the
README's tour) call `fundtrail` some sixty to a hundred times, and a new process spends about a
second importing the ledger. The shim put first on their PATH hands each command line, its
environment and working folder to `ledger.cli.root.main` in the test process over a socket, and
prints what it returned, with its exit code. What the script does around the commands (bash,
pipes into jq, `set -e`, other programs) is unchanged. A fresh process per command is still
what the tests of the command line's start-up check (tests/test_cli_lazy.py, test_cli_help.py);
a test offers its own switch to run the installed `fundtrail` instead.

    with shim_on_path(folder) as (bin_dir, server):
        env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
        subprocess.run(["bash", "script.sh"], env=env)
    server.calls   # [(argv, exit code), …]
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from pathlib import Path

from ledger.cli.root import main

SHIM = """#!{python} -I
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect({path!r})
s.sendall(json.dumps({{"argv": sys.argv[1:], "env": dict(os.environ),
                       "cwd": os.getcwd()}}).encode())
s.shutdown(socket.SHUT_WR)
data = b"".join(iter(lambda: s.recv(65536), b""))
reply = json.loads(data)
sys.stdout.write(reply["out"]); sys.stderr.write(reply["err"])
sys.exit(reply["code"])
"""


def run_in_process(argv: list[str], env: dict, cwd: str) -> tuple[int, str, str]:
    """`fundtrail ARGV` in this process, with exactly the caller's environment and folder."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # pragma: no cover - main() returns its code
                code = exc.code if isinstance(exc.code, int) else 1
            except Exception as exc:  # an unexpected crash is a failed step, not a hung shim
                print(f"crash: {exc!r}", file=sys.stderr)
                code = 99
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return code, out.getvalue(), err.getvalue()


class Server:
    """Answers the shim's requests one at a time and keeps what every command returned."""

    def __init__(self, path: Path):
        self.calls: list[tuple[list[str], int]] = []
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(str(path))
        self.sock.listen(1)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b"".join(iter(lambda: conn.recv(65536), b""))
                request = json.loads(data)
                code, out, err = run_in_process(request["argv"], request["env"],
                                                request["cwd"])
                self.calls.append((request["argv"], code))
                conn.sendall(json.dumps({"code": code, "out": out, "err": err}).encode())

    def close(self):
        self.sock.close()


@contextlib.contextmanager
def shim_on_path(folder: Path):
    """FOLDER/bin/fundtrail, the shim, and the server answering it while the block runs."""
    bin_dir = Path(folder) / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    # AF_UNIX paths are short (108 bytes): the socket lives in a short folder of its own.
    sock_dir = Path(tempfile.mkdtemp(prefix="ft", dir="/tmp"))
    server = Server(sock_dir / "ft.sock")
    shim = bin_dir / "fundtrail"
    shim.write_text(SHIM.format(python=sys.executable, path=str(sock_dir / "ft.sock")))
    shim.chmod(0o755)
    try:
        yield bin_dir, server
    finally:
        server.close()
        shutil.rmtree(sock_dir, ignore_errors=True)
