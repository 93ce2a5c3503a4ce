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
export FUNDTRAIL_KEY_DIR="$PWD/$DEMO/keys/people" FUNDTRAIL_KEY_PASSPHRASE="$FUNDTRAIL_SIGNING_PASSPHRASE"
set -a; . "$DEMO/keys/pii.env"; set +a
ft() { fundtrail --config "$DEMO/fundtrail.toml" "$@"; }

echo "== verification (row binding included)"
ft verify

echo "== offline bundle for auditors, checked without the database"
ft export-bundle "$DEMO/bundle"
python -m ledger.audit.tlog.verify_bundle "$DEMO/bundle" --policy "$DEMO/keys/policy.txt"

echo "== where the central lot went (first lines)"
ft trace --lot 1 --payees 2 | head -n 14

echo "== misuse alerts raised on the planted cases (first lines; ground truth in $DEMO/manifest.json)"
FUNDTRAIL_USER=auditor ft alerts scan --as-of 2024-12-31 | head -n 12 || true

echo "== notices printed as PDFs; a phone's view: read the QR back from the page and check it"
ft report county-batch --county 520121 --year 2024 -o "$DEMO/notices"
pdftoppm -r 150 -png -singlefile "$DEMO/notices/notice-XM52012101-520121001001.pdf" \
    "$DEMO/notices/notice"
zbarimg --raw -q "$DEMO/notices/notice.png" 2>/dev/null > "$DEMO/notices/notice.qr"
ft report check-qr --file "$DEMO/notices/notice.qr"

echo "== trial balance (last lines)"
ft trial-balance | tail -n 4

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
