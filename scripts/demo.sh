#!/usr/bin/env bash
# Builds the demo province in DIR (default ./demo): its configuration (DIR/fundtrail.toml), the
# SQLite ledger, the log key and three cosigners, every demo user's key file, the keys for
# personal data; records the county's notices, then signs the log and has two cosigners cosign
# it. scripts/quickstart.sh runs it after setting up (and then shows what the demo holds);
# tests/test_readme_tour.py runs it in a temporary folder (DEMO_HOUSEHOLDS=… makes a smaller
# province), then the README's tour there.
#
#     scripts/demo.sh [DIR]
set -euo pipefail
DEMO="${1:-demo}"
# A folder that holds anything but an earlier demo is left alone.
if [ -e "$DEMO" ] && [ -n "$(ls -A "$DEMO")" ] && [ ! -f "$DEMO/fundtrail.toml" ]; then
    echo "$DEMO 不是演示目录，未改动 / $DEMO exists and is not a demo folder; nothing was changed" >&2
    exit 2
fi
rm -rf "$DEMO" && mkdir -p "$DEMO/keys"
DEMO="$(cd "$DEMO" && pwd)"
unset FUNDTRAIL_DATABASE_URL FUNDTRAIL_USER FUNDTRAIL_KEY
cat > "$DEMO/fundtrail.toml" <<TOML
[database]
url = "sqlite:///$DEMO/fundtrail.db"

[audit]
log_origin = "fundtrail.example/demo-province"
signing_key_file = "$DEMO/keys/log.key"
policy_file = "$DEMO/keys/policy.txt"
TOML
# A demo passphrase for the demo keys only; real deployments set their own secret.
# Kept in the demo's keys (the README's tour reads it from there).
if [ -z "${FUNDTRAIL_SIGNING_PASSPHRASE:-}" ]; then
    FUNDTRAIL_SIGNING_PASSPHRASE="$(python -c 'import secrets; print(secrets.token_urlsafe(18))')"
fi
(umask 077; echo "$FUNDTRAIL_SIGNING_PASSPHRASE" > "$DEMO/keys/passphrase")
export FUNDTRAIL_SIGNING_PASSPHRASE
# The demo's people sign with their own key files (docs/signatures.md), all kept here for the
# demo under the same passphrase; `ft demo` makes and enrols them.
export FUNDTRAIL_KEY_DIR="$DEMO/keys/people" FUNDTRAIL_KEY_PASSPHRASE="$FUNDTRAIL_SIGNING_PASSPHRASE"
# Keys for personal data (ID numbers, bank cards) in the demo; real deployments keep their own.
(umask 077; {
    echo "FUNDTRAIL_PII_KEYS=$(python -c 'from ledger.core.pii import new_key; print(new_key())')"
    echo "FUNDTRAIL_PII_INDEX_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
} > "$DEMO/keys/pii.env")
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
    # --fresh: the demo's cosigners have never seen this log (a real cosigner keeps its state)
    ft checkpoint cosign --key "$DEMO/keys/$who.key" --state "$DEMO/keys/$who.state" --fresh
done
ft checkpoint show
