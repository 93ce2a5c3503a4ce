"""Settings of the web app: the ledger's settings plus what only the web needs.

The secret key signs sessions and CSRF tokens. It comes from FUNDTRAIL_SECRET_KEY or the
[web] secret_key of the configuration file, never from a default: the app refuses to start
without a strong one (a guessable key lets anyone forge a signed-in session).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from flask import current_app

from ledger.core.config import ConfigError, Settings, load_settings

SECRET_ENV = "FUNDTRAIL_SECRET_KEY"
MIN_SECRET_LENGTH = 32
WEAK_SECRETS = {"changeme", "secret", "dev", "development", "password", "fundtrail"}


@dataclass(frozen=True)
class WebSettings:
    ledger: Settings
    secret_key: str
    # Cookies only over HTTPS. Off only for a server that listens on loopback without TLS.
    secure_cookies: bool = True
    max_upload_bytes: int = 20 * 1024 * 1024
    extra: dict = field(default_factory=dict)


def check_secret(secret: str | None) -> str:
    if not secret:
        raise ConfigError(f"no secret key: set {SECRET_ENV} (e.g. `python -c 'import secrets; "
                          f"print(secrets.token_urlsafe(48))'`) or [web] secret_key")
    if len(secret) < MIN_SECRET_LENGTH or secret.lower() in WEAK_SECRETS \
            or len(set(secret)) < 10:
        raise ConfigError(f"the secret key is too weak: use at least {MIN_SECRET_LENGTH} random "
                          "characters")
    return secret


def load_web_settings(config_path=None, *, environ=os.environ) -> WebSettings:
    return web_settings_from(load_settings(config_path), environ=environ)


def web_settings_from(ledger: Settings, *, environ=os.environ) -> WebSettings:
    web = ledger.extra.get("web", {}) if isinstance(ledger.extra, dict) else {}
    secret = environ.get(SECRET_ENV) or web.get("secret_key")
    secure = web.get("secure_cookies", True)
    if not isinstance(secure, bool):
        raise ConfigError("[web] secure_cookies must be true or false")
    return WebSettings(ledger=ledger, secret_key=check_secret(secret), secure_cookies=secure)


def current_settings() -> WebSettings:
    """The settings of the app handling the current request."""
    return current_app.extensions["fundtrail"]
