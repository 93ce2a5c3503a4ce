"""The README's tour runs as written (issue 20): every ```sh block of its "## Tour" section, in
order, in one bash with `set -Eeuo pipefail`, on a fresh demo built by scripts/demo.sh (the
quickstart's configuration and keys) in a temporary folder, SQLite. A failure names the block,
its line in README.md and the command that failed.

Each `fundtrail` the demo script and the tour call (about a hundred) is answered by the test
process through the shim of tests/cli_shim.py, as for the example county: a new process spends
about a second importing the ledger, most of what this test took. Set
FUNDTRAIL_TOUR_SUBPROCESS=1 to run the installed `fundtrail` for every command instead.

    .venv/bin/python -m tests.test_readme_tour DIR   # the tour in DIR, whose demo/ exists
                                                     # (a copy: the tour changes it)
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli_shim import shim_on_path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# A smaller province than the quickstart's: the tour needs its regions, users and lots, and
# the whole test must stay well within a CI minute and a half.
HOUSEHOLDS = "60"
FAILED = "README-TOUR-FAILED"


@dataclass
class Block:
    number: int       # 1-based, in the order of the section
    line: int         # README.md line of its first command
    text: str


def tour_blocks(readme: str | None = None) -> list[Block]:
    """The ```sh blocks between the heading "## Tour" and the next "## " heading."""
    lines = (readme if readme is not None else README.read_text(encoding="utf-8")).splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "## Tour")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    blocks, current, first = [], None, 0
    for i in range(start + 1, end):
        line = lines[i]
        if current is None and line.strip() == "```sh":
            current, first = [], i + 2
        elif current is not None and line.strip() == "```":
            blocks.append(Block(len(blocks) + 1, first, "\n".join(current)))
            current = None
        elif current is not None:
            current.append(line)
    assert current is None, "a ```sh block of the tour is not closed"
    return blocks


def tour_script(blocks: list[Block]) -> tuple[str, dict[int, tuple[Block, int]]]:
    """One bash script of all blocks, and for each of its lines the block and README line.

    The ERR trap prints the script line of the failing command: the caller's line when the
    failure is inside a function the tour defined (`ft`), so that the README line is the one
    a reader typed, and bash's text of the command as it ran."""
    head = ["set -Eeuo pipefail",
            f"trap 'echo \"{FAILED} $LINENO ${{BASH_LINENO[0]:-0}} ${{FUNCNAME[0]:-main}} "
            f"$BASH_COMMAND\" >&2' ERR"]
    script, where = list(head), {}
    for block in blocks:
        script.append(f"echo '== README tour, block {block.number} (README.md line "
                      f"{block.line})' >&2")
        for offset, line in enumerate(block.text.splitlines()):
            script.append(line)
            where[len(script)] = (block, block.line + offset)
    return "\n".join(script) + "\n", where


def failure(stderr: str, where: dict[int, tuple[Block, int]]) -> str | None:
    found = re.search(rf"^{FAILED} (\d+) (\d+) (\S+) (.*)$", stderr, re.M)
    if not found:
        return None
    line, caller, function, command = int(found[1]), int(found[2]), found[3], found[4]
    at = caller if function != "main" and caller in where else line
    block, readme_line = where.get(at, (None, None))
    if readme_line is None:
        return f"README tour: failed at script line {at}: {command}"
    # bash numbers a command continued over lines (\) by a later line: show it whole
    lines = README.read_text(encoding="utf-8").splitlines()
    first = readme_line
    while first > block.line and lines[first - 2].rstrip().endswith("\\"):
        first -= 1
    text = "\n    ".join(lines[i - 1].rstrip() for i in range(first, readme_line + 1))
    return (f"README tour block {block.number}, README.md line {first}:\n    {text}\n"
            f"  failed command: {command}")


def environment(shim: Path | None = None) -> dict[str, str]:
    """The scripts' environment; with `shim`, that folder's `fundtrail` first on the PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDTRAIL_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if shim is not None:
        env["PATH"] = f"{shim}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(ROOT)          # this checkout's code, whatever is installed
    env["DEMO_HOUSEHOLDS"] = HOUSEHOLDS
    env["CI"] = "true"
    return env


def run_tour(folder: Path, blocks: list[Block] | None = None,
             shim: Path | None = None) -> subprocess.CompletedProcess:
    """The tour in `folder`, which holds demo/; examples/ is linked there as in a checkout."""
    if not (folder / "examples").exists():
        (folder / "examples").symlink_to(ROOT / "examples")
    script, where = tour_script(blocks or tour_blocks())
    (folder / "tour.sh").write_text(script, encoding="utf-8")
    r = subprocess.run(["bash", "tour.sh"], cwd=folder, env=environment(shim),
                       capture_output=True, text=True, timeout=1800)
    r.failure = failure(r.stderr, where) if r.returncode else None
    return r


def test_readme_tour_sections_are_found():
    blocks = tour_blocks()
    assert len(blocks) >= 8
    assert all(b.text.strip() for b in blocks)
    # every id the tour uses is one it printed or captured: no placeholder left to fill in
    for block in blocks:
        for placeholder in re.findall(r"(?:--lot|\bapprove|\breverse|\bshow|\bdraw) "
                                      r"[A-Z](?=\s|$)", block.text, re.M):
            pytest.fail(f"block {block.number} has a placeholder: {placeholder}")


@pytest.mark.sqlite_only
@pytest.mark.slow
def test_readme_tour_runs(tmp_path):
    if shutil.which("jq") is None or shutil.which("zbarimg") is None:
        pytest.skip("the tour needs jq and zbar-tools (scripts/setup-env.sh installs them)")
    with contextlib.ExitStack() as stack:
        shim = None
        if os.environ.get("FUNDTRAIL_TOUR_SUBPROCESS") != "1":
            shim, server = stack.enter_context(shim_on_path(tmp_path / "shim"))
        demo = subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh"), "demo"],
                              cwd=tmp_path, env=environment(shim), capture_output=True,
                              text=True, timeout=1800)
        assert demo.returncode == 0, f"scripts/demo.sh failed:\n{demo.stdout[-3000:]}\n" \
                                     f"{demo.stderr[-3000:]}"
        r = run_tour(tmp_path, shim=shim)
    assert r.returncode == 0, (f"{r.failure or 'the tour failed'}\n--- stderr (end)\n"
                               f"{r.stderr[-4000:]}\n--- stdout (end)\n{r.stdout[-2000:]}")
    if shim is not None:   # the commands did run here, all of them
        assert len(server.calls) > 80, len(server.calls)


if __name__ == "__main__":  # pragma: no cover - a manual run, see the docstring
    result = run_tour(Path(sys.argv[1]).resolve())
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.returncode:
        print("\n" + (result.failure or "failed"), file=sys.stderr)
    sys.exit(result.returncode)
