"""The [alerts] section of the settings file: defaults, overrides, clear errors."""
from __future__ import annotations

import pytest

from ledger.alerts.settings import AlertSettings, alert_settings
from ledger.core.config import ConfigError, load_settings


def test_defaults_and_overrides_from_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert alert_settings(load_settings(None)) == AlertSettings()
    path = tmp_path / "ft.toml"
    path.write_text('[alerts]\nsplit_threshold_fen = 20000000\nper_person_items = ["助学"]\n'
                    "ben01_month_of_death_allowed = false\n", encoding="utf-8")
    cfg = alert_settings(load_settings(path))
    assert cfg.split_threshold_fen == 200_000_00 and cfg.per_person_items == ("助学",)
    assert cfg.ben01_month_of_death_allowed is False
    assert cfg.duplicate_window_days == AlertSettings().duplicate_window_days


@pytest.mark.parametrize("line, message", [
    ("nonsense = 1", "not a known setting"),
    ("split_threshold_fen = 1.5", "whole number"),
    ("per_person_items = \"教育补助\"", "list of strings"),
    ("ben01_month_of_death_allowed = 1", "true or false"),
])
def test_bad_values_name_the_setting(tmp_path, line, message):
    path = tmp_path / "ft.toml"
    path.write_text(f"[alerts]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        alert_settings(load_settings(path))
