#!/usr/bin/env bash
# The README's first command: set up, build a demo province on SQLite, sign and cosign a
# checkpoint, verify everything, print the trial balance (scripts/demo.sh), then serve the web
# app. Work files go to ./demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh
export PATH="$PWD/.venv/bin:$PATH"

DEMO=demo
scripts/demo.sh "$DEMO"
# The demo's secrets, for the web app below (scripts/demo.sh wrote them).
FUNDTRAIL_SIGNING_PASSPHRASE="${FUNDTRAIL_SIGNING_PASSPHRASE:-$(cat "$DEMO/keys/passphrase")}"
export FUNDTRAIL_SIGNING_PASSPHRASE
set -a; . "$DEMO/keys/pii.env"; set +a
ft() { fundtrail --config "$DEMO/fundtrail.toml" "$@"; }

echo "== web app: passwords for the demo's users, then serve on 127.0.0.1 (Ctrl-C stops it)"
WEBPW="$(python -c 'import secrets; print(secrets.token_urlsafe(12))')"
(umask 077; echo "$WEBPW" > "$DEMO/keys/web-password")
FUNDTRAIL_USER_PASSWORD="$WEBPW" ft user password --all-without-password
# The session key signs cookies and CSRF tokens; the demo makes one, a deployment sets its own.
export FUNDTRAIL_SECRET_KEY="${FUNDTRAIL_SECRET_KEY:-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')}"
echo
echo "Done. CLI:  .venv/bin/fundtrail --config $DEMO/fundtrail.toml balances --kind unit"
echo "Web:  http://127.0.0.1:8080/  — public village pages need no login; staff sign in as"
echo "      p_clerk, 520121_clerk, 520121_approver, auditor or admin, password in $DEMO/keys/web-password"
if [ -n "${CI:-}" ] || [ "${FUNDTRAIL_NO_SERVE:-}" = 1 ]; then
    exit 0
fi
exec fundtrail --config "$DEMO/fundtrail.toml" serve
