"""The root of the command line loads its areas lazily (ledger/cli/root.py, ledger/cli/lazy.py).

The table of commands is written by hand, with each command's summary, so that `--help` imports
no area module; these tests keep it true to the modules both ways, and check that the old
spellings still resolve, hidden.
"""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys

import click
import pytest

import ledger.cli
from ledger.cli.lazy import LazyGroup
from ledger.cli.root import ALIASES, COMMANDS, cli

# The modules of ledger/cli that hold no command: the root, its group, the shared pieces.
NOT_AREAS = {"ledger.cli.root", "ledger.cli.lazy", "ledger.cli.params"}


def _area_modules() -> list[str]:
    return sorted(f"ledger.cli.{m.name}" for m in pkgutil.iter_modules(ledger.cli.__path__)
                  if f"ledger.cli.{m.name}" not in NOT_AREAS)


def _top_level_commands(module) -> dict[str, click.Command]:
    """attribute -> command, for the commands of `module` that are not in one of its groups."""
    commands = {attr: value for attr, value in vars(module).items()
                if isinstance(value, click.Command)}
    grouped = {id(sub) for value in commands.values() if isinstance(value, click.Group)
               for sub in value.commands.values()}
    return {attr: c for attr, c in commands.items() if id(c) not in grouped}


def _fresh_root() -> LazyGroup:
    """A root that has loaded nothing yet (`cli` keeps what earlier tests loaded)."""
    return LazyGroup("fundtrail", lazy_commands=COMMANDS, aliases=ALIASES,
                     plugin_group=cli.plugin_group, params=cli.params, help=cli.help)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_entry_of_the_table_is_the_command_it_names(name):
    entry = COMMANDS[name]
    command = entry.load()
    assert isinstance(command, click.Command), entry.target
    assert command.name == name, entry.target


# The help texts are translated when a command's module is imported (docs/i18n.md), and a test
# process may have imported one in either language: what --help says is checked in a process of
# its own, started in the language checked.
FRESH_ROOT = """
import json, click
from ledger.cli.lazy import LazyGroup
from ledger.cli.root import ALIASES, COMMANDS, cli
from ledger.i18n import gettext
lazy = LazyGroup("fundtrail", lazy_commands=COMMANDS, aliases=ALIASES,
                 plugin_group=cli.plugin_group, params=cli.params, help=cli.help)
"""


def _in_a_fresh_process(lang: str, code: str):
    env = {k: v for k, v in os.environ.items() if k != "FUNDTRAIL_LANG"} | {"FUNDTRAIL_LANG": lang}
    done = subprocess.run([sys.executable, "-c", FRESH_ROOT + code], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_summary_of_the_table_is_its_commands_first_sentence(lang):
    """The table holds each summary in Chinese, translated when shown."""
    pairs = _in_a_fresh_process(lang, (
        "print(json.dumps({n: [gettext(e.summary), e.load().get_short_help_str(limit=10**6)]"
        " for n, e in COMMANDS.items()}, ensure_ascii=False))\n"))
    differ = {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}
    assert not differ, ("the summary of each command in ledger/cli/root.py must be the first "
                        f"paragraph of its Chinese help: {differ}")


def test_every_command_an_area_module_defines_is_in_the_table():
    defined = {}
    for name in _area_modules():
        for attribute, command in _top_level_commands(importlib.import_module(name)).items():
            defined[command.name] = f"{name}:{attribute}"
    listed = {name: entry.target for name, entry in COMMANDS.items()}
    assert defined == listed


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_help_lists_what_loading_every_command_would(lang):
    """The summaries give --help, truncation included, exactly what the commands would."""
    shown, expected = _in_a_fresh_process(lang, """
with click.Context(lazy, info_name="fundtrail") as ctx:
    shown = lazy.get_help(ctx)
eager = click.Group("fundtrail", params=cli.params, help=cli.help)
with click.Context(eager, info_name="fundtrail") as ctx:
    for name in lazy.list_commands(ctx):
        eager.add_command(lazy.get_command(ctx, name), name)
    expected = eager.get_help(ctx)
print(json.dumps([shown, expected]))
""")
    assert shown == expected
    for alias in ALIASES:
        assert f"  {alias} " not in shown


def test_the_outer_layers_come_from_their_entry_points():
    from reports.cli import report
    from web.cli import serve
    root = _fresh_root()
    with click.Context(root) as ctx:
        assert {"report", "serve"} <= set(root.list_commands(ctx))
        assert root.get_command(ctx, "report") is report
        assert root.get_command(ctx, "serve") is serve
        assert root.get_command(ctx, "no-such-command") is None


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_old_spellings_are_hidden_aliases_of_the_new(alias):
    root = _fresh_root()
    with click.Context(root) as ctx:
        *groups, last = ALIASES[alias].split()
        group = root
        for word in groups:
            group = group.get_command(ctx, word)
        command = group.get_command(ctx, last)
        old = root.get_command(ctx, alias)
    assert old is not None and old.hidden
    assert not command.hidden  # hiding the old spelling leaves the new one shown
    assert old.callback is command.callback and old.params == command.params


def _modules_loaded_by(*argv: str) -> set[str]:
    code = ("import json, sys\nfrom ledger.cli.root import main\n"
            f"code = main({list(argv)!r})\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_help_loads_no_area_and_no_database_code():
    """What makes `fundtrail --help` start fast (issue 16: 0.9 s before the lazy root)."""
    loaded = _modules_loaded_by("--help")
    assert loaded.isdisjoint(_area_modules())
    assert "sqlalchemy" not in loaded and "ledger.models" not in loaded
    assert "reports.cli" in loaded and "web.cli" in loaded  # `report` and `serve` are listed
    # nor Flask: only the web asks for a request's language (ledger.i18n.current_locale)
    assert "flask" not in loaded


def test_a_command_loads_only_its_own_area():
    loaded = _modules_loaded_by("pii-keygen")
    assert [m for m in _area_modules() if m in loaded] == ["ledger.cli.imports"]
    assert "reports.cli" not in loaded  # nor the entry points of the outer layers
    # an area that reads files loads openpyxl only for a workbook (ledger/imports/spreadsheet)
    assert "openpyxl" not in loaded and "flask" not in loaded
