"""Alert thresholds and lists: documented defaults, overridden by the `[alerts]` section of the
settings file. Each setting is declared beside the rule that reads it (`Setting` in the rule
modules, with its default's basis: DOMAIN.md §4, research/china-fund-rules.md §(a),
research/misuse-detection-anchors.md §7); AlertSettings is made from those declarations, one
field per setting. The defaults are starting points to recalibrate on real outcomes (the
confirmed/dismissed counts per rule), not constants.
"""
from __future__ import annotations

from dataclasses import fields, make_dataclass, replace

from ledger.alerts.catalogue import SETTINGS
from ledger.core.config import ConfigError

AlertSettings = make_dataclass(
    "AlertSettings", [(s.name, type(s.default), s.default) for s in SETTINGS.values()],
    frozen=True)
AlertSettings.__module__ = __name__
AlertSettings.__doc__ = ("The alert settings in force: one field per setting the rules declare "
                         "(ledger.alerts.catalogue.SETTINGS), defaults unless overridden.")


def alert_settings(settings) -> AlertSettings:
    """The `[alerts]` section of the settings file applied over the defaults."""
    data = dict((getattr(settings, "extra", None) or {}).get("alerts", {}))
    # E3 judges the roll publicity window the ledger keeps, unless [alerts] says otherwise.
    days = getattr(settings, "roll_publicity_working_days", None)
    if isinstance(days, int):
        data.setdefault("e3_roll_working_days", days)
    return from_mapping(data, getattr(settings, "source", "settings"))


def from_mapping(data: dict, where: str = "settings") -> AlertSettings:
    known = {f.name: f for f in fields(AlertSettings)}
    changes = {}
    defaults = AlertSettings()
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{where}: [alerts] {key} is not a known setting")
        default = getattr(defaults, key)
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: [alerts] {key} must be a list of strings")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: [alerts] {key} must be true or false")
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{where}: [alerts] {key} must be a whole number ≥ 0")
        changes[key] = value
    return replace(defaults, **changes)
