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
# Keys for personal data (ID numbers, bank cards) in the demo; real deployments keep their own.
if [ ! -f "$DEMO/keys/pii.env" ]; then
    (umask 077; {
        echo "FUNDTRAIL_PII_KEYS=$(python -c 'from ledger.pii import new_key; print(new_key())')"
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
python -m ledger.audit.verify_bundle "$DEMO/bundle" --policy "$DEMO/keys/policy.txt"

echo "== where the central lot went (first lines)"
ft trace --lot 1 --payees 2 | head -n 14

echo "== misuse alerts raised on the planted cases (first lines; ground truth in $DEMO/manifest.json)"
FUNDTRAIL_USER=auditor ft alerts scan --as-of 2024-12-31 | head -n 12 || true

echo "== trial balance (last lines)"
ft trial-balance | tail -n 4
echo
echo "Done. Try:  .venv/bin/fundtrail --config $DEMO/fundtrail.toml balances --kind unit"
