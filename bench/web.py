"""Figure 6: the web app under load — wrk against `fundtrail serve` (waitress) on loopback.

The project: `fundtrail serve` (waitress, its default 4 threads) in its own process on the
demo province with one county's notices published and cosigned (bench/demodb.py, so the
village page shows its rolls with their proofs): the public page of a village of that county,
and a province clerk's staff dashboard (/staff/, signed in; wrk sends the session cookie).

Baseline, in the same run, interleaved: a trivial WSGI app under the same waitress (same
threads) returning a fixed page of the village page's size, loaded by the same wrk command.

wrk (Debian package `wrk`): 2 threads, 16 connections, `--latency` for the p99; 10 s per
measurement (5 s with --quick). wrk and the server share the machine's two cores.
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.demodb import prepared
from bench.harness import Figure, median

AGENT = "fundtrail-bench"  # sign-in binds the session to the user agent (strong protection)
PASSWORD = "bench-password-0123456789"
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-XYZ"
CONNECTIONS, THREADS = 16, 2
STAFF_USER = "p_clerk"  # province level: the dashboard reads the whole province

# `fundtrail` itself: the console script's entry point (pyproject.toml [project.scripts]), which
# also registers the commands of reports/ and web/ (entry points), `serve` among them.
CLI_CODE = "import sys; from ledger.cli.root import main; sys.exit(main())"
# Setting a password: `user password` (issue 16's noun–verb groups), or the older spelling.
PASSWORD_COMMANDS = (["user", "password"], ["user-password"])

TRIVIAL = """
import waitress
body = b"x" * {size}
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
waitress.serve(app, host="127.0.0.1", port={port}, threads=4, ident="trivial")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, proc, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}): see serve.log in the "
                               "work directory")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def wrk(url: str, seconds: int, cookie: str | None = None) -> dict:
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
           "-H", f"User-Agent: {AGENT}"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rate": rate, "p99_ms": p99, "p50_ms": p50, "non2xx": int(bad.group(1)) if bad
            else 0, "socket_errors": errors.group(1) if errors else ""}


def drain(url: str) -> None:
    """Wait until the server has answered what wrk left queued when it stopped (waitress still
    serves requests whose client has gone): one request, answered after the queue."""
    urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": AGENT}),
                           timeout=300).read()


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _opener():
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", AGENT)]
    return opener, jar


def sign_in(base: str, username: str) -> str:
    """Sign in through the login form; the session cookie as a Cookie header value."""
    opener, jar = _opener()
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "username": username,
                                   "password": PASSWORD}).encode()
    opener.open(base + "/login", data)
    cookies = {c.name: c.value for c in jar}
    if "fundtrail_session" not in cookies:
        raise RuntimeError("sign-in failed: no session cookie")
    check = opener.open(base + "/staff/")
    if check.status != 200 or "/login" in check.url:
        raise RuntimeError(f"sign-in failed: /staff/ answered {check.status} {check.url}")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def set_password(cli: list, env: dict, username: str) -> None:
    """Set `username`'s password (FUNDTRAIL_USER_PASSWORD) with the command line."""
    errors = []
    for command in PASSWORD_COMMANDS:
        done = subprocess.run(cli + command + [username], env=env, capture_output=True,
                              text=True)
        if done.returncode == 0:
            return
        errors.append(f"`{' '.join(command)}`: {done.stderr.strip()[-2000:]}")
        if "No such command" not in done.stderr:
            break
    raise RuntimeError("setting a password failed: " + "\n".join(errors))


def _env(extra: dict) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).parent.parent) + os.pathsep + env.get("PYTHONPATH",
                                                                                 "")
    env.update(extra)
    return env


def run(ctx) -> list[Figure]:
    if shutil.which("wrk") is None:
        return [Figure("6 web", "wrk → waitress", "req/s",
                       note="not measured: wrk missing (apt-get install wrk)")]
    prep = prepared(ctx)
    config = Path(ctx.workdir) / "web.toml"
    config.write_text(f'[audit]\npolicy_file = "{prep.policy_file}"\n\n[web]\n'
                      'secure_cookies = false\n', encoding="utf-8")
    env = _env({"FUNDTRAIL_DATABASE_URL": prep.url, "FUNDTRAIL_SECRET_KEY": SECRET,
                "FUNDTRAIL_USER_PASSWORD": PASSWORD})
    cli = [sys.executable, "-c", CLI_CODE, "--config", str(config)]
    set_password(cli, env, STAFF_USER)
    port, trivial_port = free_port(), free_port()
    # the servers' output goes to files: waitress logs its queue depth under load, and a pipe
    # nobody reads would fill and block its threads
    server_log = open(Path(ctx.workdir) / "serve.log", "w")
    server = subprocess.Popen(cli + ["serve", "--port", str(port)], env=env,
                              stdout=server_log, stderr=subprocess.STDOUT)
    trivial = None
    try:
        wait_up(port, server)
        base = f"http://127.0.0.1:{port}"
        village = prep.villages[0]
        page = urllib.request.urlopen(f"{base}/village/{village}").read()
        cookie = sign_in(base, STAFF_USER)
        dash = urllib.request.Request(base + "/staff/", headers={"Cookie": cookie,
                                                                  "User-Agent": AGENT})
        dash_size = len(urllib.request.urlopen(dash).read())
        trivial = subprocess.Popen([sys.executable, "-c", TRIVIAL.format(
            size=len(page), port=trivial_port)], env=_env({}), stdout=server_log,
            stderr=subprocess.STDOUT)
        wait_up(trivial_port, trivial)
        seconds = 5 if ctx.quick else 10
        runs = 1 if ctx.quick else min(ctx.runs, 3)
        urls = {"village": f"{base}/village/{village}", "dashboard": f"{base}/staff/"}
        idle = f"{base}/checkpoint.txt"
        trivial_url = f"http://127.0.0.1:{trivial_port}/"
        for name, url in urls.items():  # warm both
            wrk(url, 1, cookie if name == "dashboard" else None)
            drain(idle)
        results = {"village": [], "dashboard": [], "trivial": []}
        for _ in range(runs):
            results["trivial"].append(wrk(trivial_url, seconds))
            drain(trivial_url)
            results["village"].append(wrk(urls["village"], seconds))
            drain(idle)
            results["dashboard"].append(wrk(urls["dashboard"], seconds, cookie))
            drain(idle)
    finally:
        for proc in (server, trivial):
            if proc is not None:
                proc.terminate()
                proc.wait(10)
        server_log.close()
    base_rate = median([r["rate"] for r in results["trivial"]])
    base_p99 = median([r["p99_ms"] for r in results["trivial"]])
    figures = []
    for name, label, target, ok in [
            ("village", f"public village page /village/{village} ({len(page) / 1024:.0f} kB)",
             "≥300 req/s, p99 ≤100 ms",
             lambda rate, p99: rate >= 300 and p99 <= 100),
            ("dashboard", f"staff dashboard /staff/ as {STAFF_USER} ({dash_size / 1024:.0f} kB)",
             "p99 ≤300 ms", lambda rate, p99: p99 <= 300)]:
        rows = results[name]
        rate, p99 = median([r["rate"] for r in rows]), median([r["p99_ms"] for r in rows])
        p50 = median([r["p50_ms"] for r in rows])
        fig = Figure(f"6 web {name}", label, "req/s", rate, [r["rate"] for r in rows],
                     "trivial WSGI app, same waitress", base_rate,
                     [r["rate"] for r in results["trivial"]], target=target)
        fig.target_met = ok(rate, p99)
        bad = sum(r["non2xx"] for r in rows)
        fig.note = (f"p99 {p99:.0f} ms, p50 {p50:.0f} ms (trivial app: p99 {base_p99:.1f} ms); "
                    f"wrk -t{THREADS} -c{CONNECTIONS} -d{seconds}s, {len(rows)} run(s); "
                    f"waitress 4 threads, SQLite"
                    + (f"; {bad} non-2xx responses" if bad else ""))
        fig.extra = {"runs": rows, "trivial_runs": results["trivial"], "p99_ms": p99,
                     "p50_ms": p50}
        figures.append(fig)
    return figures
