"""Settings: built-in defaults, overridden by a TOML file, overridden by the environment.

Lookup order (DESIGN.md, command line): `--config PATH`, else `./fundtrail.toml` if present,
else defaults. `FUNDTRAIL_DATABASE_URL` overrides the database URL. Secrets are never given
defaults that work in production: they come from the file or the environment.

The database has no default: a command run where nothing names one is refused
(`Settings.require_database_url`) instead of creating a stray `fundtrail.db` in whatever folder
it was started from (issue 20).
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

# No default database: "" means none was configured (see Settings.require_database_url).
DEFAULT_DATABASE_URL = ""
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"


class ConfigError(Exception):
    """The configuration file is missing, unreadable or has a bad value."""


# The log origin of the demo province and of a configuration that names none ([audit] log_origin).
DEMO_LOG_ORIGIN = "fundtrail.example/demo-province"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # Name of this log in checkpoints (C2SP origin line); one per deployment.
    log_origin: str = DEMO_LOG_ORIGIN
    # Publicity windows (DOMAIN.md §2 / DESIGN.md invariant 9), in days.
    # The bureau's checkpoint signing key (encrypted file, never in the database) and the
    # C2SP tlog-policy file naming the log key, the cosigners and the quorum.
    signing_key_file: str = "keys/log.key"
    policy_file: str = "keys/policy.txt"
    # Environment variable holding the signing key's passphrase (else a prompt).
    passphrase_env: str = "FUNDTRAIL_SIGNING_PASSPHRASE"
    roll_publicity_working_days: int = 7
    project_notice_days: int = 10
    # Complaint deadlines in calendar days from receipt (DOMAIN.md §5; research/china-fund-rules.md
    # §G6 and "12317 hotline": close in 15 days, Inner Mongolia 2017 [S22]; answer a named
    # complainant in 20 days, Shanxi 2015 [S21]).
    complaint_close_days: int = 15
    complaint_answer_days: int = 20
    # Field-check samples: how much more likely a household touched by an alert is to be drawn
    # (weight of a risk stratum against 1 for the others; docs/oversight.md).
    sample_risk_weight: int = 3
    # TrueType CJK font for printed notices ("" = search the standard places; reports.fonts).
    font_file: str = ""
    # How public boards print names: "full" (张三丰) or "mask_given" (张*丰), per local practice.
    name_display: str = "full"
    # BLK-01: refuse a payment to a payee on the violations blacklist as it is recorded, instead
    # of only raising the alert at the next scan (DOMAIN.md §4: "refused at posting where
    # configured"). Off by default: a blacklist entry can be wrong, and a refusal stops money
    # a household may be owed; a bureau that trusts its list turns it on.
    refuse_blacklisted_payees: bool = False
    # Members import: an ID number whose only fault is its check character (校验码错误) is
    # imported as registered and listed in the import's report, instead of refusing the file.
    # Off by default: a wrong check character is most often a typing error, and a number typed
    # wrong matches nobody on the deaths or payroll lists. A county moving its existing
    # registry in turns it on for that load (docs/formats.md, "members"). New entries made one
    # by one (`fundtrail household add-member`) are refused whatever this says.
    accept_wrong_check_character: bool = False
    # The address at which villagers' phones reach the public pages ([web] public_url, e.g.
    # "https://gongshi.example.gov.cn"): a printed notice's QR is a link to its verify page
    # there (ledger.audit.tlog.proofs.proof_link). The default is `fundtrail serve`'s own
    # address, which only the server's machine reaches: a deployment sets its public one.
    public_url: str = DEFAULT_PUBLIC_URL
    source: str = "defaults"
    # The whole file as read. Sections owned by a feature are read from here by that feature:
    # [alerts] by ledger.alerts.settings.alert_settings (thresholds with their basis).
    extra: dict = field(default_factory=dict)

    def require_database_url(self) -> str:
        """The configured database URL, or a refusal that says which setting is missing.

        Nothing is created when none is configured: a default file in the current folder would
        be a second, empty ledger that a mistyped command writes into and nobody audits."""
        if self.database_url:
            return self.database_url
        raise ConfigError(missing_database_message(self.source))


_KNOWN = {
    ("database", "url"): "database_url",
    ("audit", "log_origin"): "log_origin",
    ("audit", "signing_key_file"): "signing_key_file",
    ("audit", "policy_file"): "policy_file",
    ("audit", "passphrase_env"): "passphrase_env",
    ("publicity", "roll_working_days"): "roll_publicity_working_days",
    ("publicity", "project_notice_days"): "project_notice_days",
    ("oversight", "complaint_close_days"): "complaint_close_days",
    ("oversight", "complaint_answer_days"): "complaint_answer_days",
    ("oversight", "sample_risk_weight"): "sample_risk_weight",
    ("reports", "font_file"): "font_file",
    ("reports", "name_display"): "name_display",
    ("ledger", "refuse_blacklisted_payees"): "refuse_blacklisted_payees",
    ("imports", "accept_wrong_check_character"): "accept_wrong_check_character",
    ("web", "public_url"): "public_url",
}


def missing_database_message(source: str = "defaults") -> str:
    """The refusal when no database is configured, Chinese first (the CLI's convention)."""
    if source != "defaults":
        return (f"未配置数据库：配置文件 {source} 中没有 [database] url，也未设置 "
                f"FUNDTRAIL_DATABASE_URL；未创建任何文件 / no database configured: {source} has "
                "no [database] url and FUNDTRAIL_DATABASE_URL is not set; nothing was created")
    return ("未配置数据库：请用 --config 指定配置文件（写明 [database] url），或在当前目录放 "
            "fundtrail.toml，或设置 FUNDTRAIL_DATABASE_URL；未创建任何文件 / no database "
            "configured: give --config FILE (with [database] url), put a fundtrail.toml in this "
            "folder, or set FUNDTRAIL_DATABASE_URL; nothing was created")


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Load settings following the documented lookup order."""
    settings = Settings()
    if path is None and Path("fundtrail.toml").exists():
        path = "fundtrail.toml"
    if path is not None:
        settings = _apply_file(settings, Path(path))
    env_url = os.environ.get("FUNDTRAIL_DATABASE_URL")
    if env_url:
        settings = replace(settings, database_url=env_url)
    return settings


def _apply_file(settings: Settings, path: Path) -> Settings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    changes: dict = {"source": str(path)}
    for (section, key), attr in _KNOWN.items():
        value = data.get(section, {}).get(key)
        if value is None:
            continue
        expected = type(getattr(settings, attr))
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise ConfigError(
                f"{path}: [{section}] {key} must be {expected.__name__}, got {value!r}")
        changes[attr] = value
    if "public_url" in changes:
        check_public_url(changes["public_url"], f"{path}: [web] public_url")
    changes["extra"] = data
    return replace(settings, **changes)


def check_public_url(url: str, what: str = "[web] public_url") -> str:
    """An http(s) address with a host and nothing after its path: the QR appends /v#…"""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
            or parts.fragment or "#" in url or any(ch.isspace() for ch in url):
        raise ConfigError(f"{what} must be an http:// or https:// address such as "
                          f"https://gongshi.example.gov.cn, got {url!r}")
    return url
