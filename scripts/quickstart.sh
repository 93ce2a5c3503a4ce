#!/usr/bin/env bash
# The README's first command: set up, build a demo province on SQLite, sign and cosign a
# checkpoint, verify everything, print the trial balance. Work files go to ./demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh
export PATH="$PWD/.venv/bin:$PATH"

DEMO=demo
rm -rf "$DEMO" && mkdir -p "$DEMO/keys"
cat > "$DEMO/fundtrail.toml" <<TOML
[database]
url = "sqlite:///$PWD/$DEMO/fundtrail.db"

[audit]
log_origin = "fundtrail.example/demo-province"
signing_key_file = "$PWD/$DEMO/keys/log.key"
policy_file = "$PWD/$DEMO/keys/policy.txt"
TOML
export FUNDTRAIL_DATABASE_URL="sqlite:///$PWD/$DEMO/fundtrail.db"
# A demo passphrase for the demo keys only; real deployments set their own secret.
if [ -z "${FUNDTRAIL_SIGNING_PASSPHRASE:-}" ]; then
    FUNDTRAIL_SIGNING_PASSPHRASE="$(python -c 'import secrets; print(secrets.token_urlsafe(18))')"
    (umask 077; echo "$FUNDTRAIL_SIGNING_PASSPHRASE" > "$DEMO/keys/passphrase")
fi
export FUNDTRAIL_SIGNING_PASSPHRASE
# The demo's people sign with their own key files (docs/signatures.md), all kept here for the
# demo under the same passphrase; `ft demo` makes and enrols them.
export FUNDTRAIL_KEY_DIR="$PWD/$DEMO/keys/people" FUNDTRAIL_KEY_PASSPHRASE="$FUNDTRAIL_SIGNING_PASSPHRASE"
# Keys for personal data (ID numbers, bank cards) in the demo; real deployments keep their own.
if [ ! -f "$DEMO/keys/pii.env" ]; then
    (umask 077; {
        echo "FUNDTRAIL_PII_KEYS=$(python -c 'from ledger.core.pii import new_key; print(new_key())')"
        echo "FUNDTRAIL_PII_INDEX_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    } > "$DEMO/keys/pii.env")
fi
set -a; . "$DEMO/keys/pii.env"; set +a
ft() { fundtrail --config "$DEMO/fundtrail.toml" "$@"; }

echo "== keys: the bureau's log key and three cosigners (village, township, county)"
LOG_VKEY=$(ft keygen --kind log --out "$DEMO/keys/log.key")
{
    echo "log $LOG_VKEY"
    for who in village township county; do
        echo "witness $who $(ft keygen --kind cosigner --name "$who.demo-province" \
            --out "$DEMO/keys/$who.key")"
    done
    echo "group sign-off 2 village township county"
    echo "quorum sign-off"
} > "$DEMO/keys/policy.txt"

echo "== schema and demo province"
ft db upgrade
ft demo --seed 1 --households "${DEMO_HOUSEHOLDS:-500}" --manifest "$DEMO/manifest.json"

echo "== public notices recorded in the audit log (docs/reports.md); printed after cosigning"
ft --as 520121_clerk report contact --region 520121 --office 开阳县乡村振兴局 \
    --phone "0851-8722 0000"
ft --as 520121_clerk report project-details XM52012101 --village 520121001001 \
    --place "冲口村一组至三组" --content "硬化村组道路 3.2 公里，路面宽 4.5 米" \
    --standard "每公里补助 40 万元" --start 2024-04-01 --end 2024-09-30 \
    --implementer "冲口村村民委员会" --responsible "王建国" \
    --targets "解决 126 户 512 人出行难，其中脱贫户 38 户" \
    --benefit "优先聘用本村脱贫劳动力参与建设，按日结算劳务报酬" \
    --phone "0851-8722 0000" --issuer "冲口村村民委员会"
ft --as 520121_clerk report publish county-batch --county 520121 --year 2024 --from 2025-01-10

echo "== checkpoint: signed by the bureau, cosigned by village and township"
ft checkpoint sign >/dev/null
for who in village township; do
    ft checkpoint cosign --key "$DEMO/keys/$who.key" --state "$DEMO/keys/$who.state"
done
ft checkpoint show

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
