"""A click group that imports a command's module only when that command runs.

Importing every area of the command line loads most of the ledger (SQLAlchemy, the models, the
services); `fundtrail --help` and any one command need a small part of it. The group knows each
command by name, where it is ("module:attribute") and its one-line summary, which is all that
`--help` shows; click's documented pattern for lazily loaded subcommands, plus the summaries so
that listing the commands imports none of them.

It also takes hidden aliases (old spellings that scripts still use, resolved to a command or a
subcommand of a group) and commands that other packages declare as entry points.
"""
from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass

import click

from ledger.i18n import gettext


@dataclass(frozen=True)
class LazyCommand:
    target: str   # "package.module:attribute", the click command itself
    # Its one-line help as `--help` shows it, in Chinese (marked with N_, translated when shown):
    # the first paragraph of the command's Chinese help, whose English is the first sentence of
    # the English help.
    summary: str

    def load(self) -> click.Command:
        module_name, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module_name), attribute)


class LazyGroup(click.Group):
    """`lazy_commands`: name -> LazyCommand. `aliases`: hidden name -> the words of the command
    it stands for ("project add"). `plugin_group`: an entry-point group whose commands are
    added under their entry-point names, unless the group already has one of that name."""

    def __init__(self, *args, lazy_commands: dict[str, LazyCommand] | None = None,
                 aliases: dict[str, str] | None = None, plugin_group: str | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})
        self.aliases = dict(aliases or {})
        self.plugin_group = plugin_group
        self._plugins = None

    def list_commands(self, ctx):
        """Every command `--help` shows; the aliases are left out (they are hidden)."""
        return sorted({*self.commands, *self.lazy_commands, *self._plugin_entry_points()})

    def get_command(self, ctx, cmd_name):
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in self.lazy_commands:
            command = self.lazy_commands[cmd_name].load()
        elif cmd_name in self.aliases:
            return self._alias(ctx, cmd_name)
        elif cmd_name in self._plugin_entry_points():
            command = self._plugin_entry_points()[cmd_name].load()
        else:
            return None
        if not isinstance(command, click.Command):
            raise TypeError(f"{cmd_name!r} is not a click command but {command!r}")
        self.commands[cmd_name] = command  # loaded once per process
        return command

    def _alias(self, ctx, alias: str) -> click.Command | None:
        group = self
        *path, last = self.aliases[alias].split()
        for word in path:
            group = group.get_command(ctx, word) if isinstance(group, click.Group) else None
        command = group.get_command(ctx, last) if isinstance(group, click.Group) else None
        if command is None:
            return None
        # A copy, so that hiding the old spelling does not hide the new one.
        hidden = copy.copy(command)
        hidden.hidden = True
        return hidden

    def _plugin_entry_points(self) -> dict:
        if self._plugins is None:
            found = {}
            if self.plugin_group is not None:
                # Imported here: reading the installed packages' metadata is not free, and a
                # command of the table never needs it.
                from importlib.metadata import entry_points
                for ep in entry_points(group=self.plugin_group):
                    if ep.name not in self.lazy_commands and ep.name not in self.commands:
                        found.setdefault(ep.name, ep)
            self._plugins = found
        return self._plugins

    def format_commands(self, ctx, formatter):
        """As click's, except that a command not loaded yet is shown by its table summary."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None and name in self.lazy_commands:
                command = click.Command(name, help=gettext(self.lazy_commands[name].summary))
            elif command is None:
                command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, command.get_short_help_str(limit))
                                    for name, command in rows])
