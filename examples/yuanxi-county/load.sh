#!/usr/bin/env bash
# 沅溪县 moves in: two years (2023, 2024) of a county's records loaded into a fresh ledger with
# the documented commands only — one command per file, in the order a new county runs them
# (registers first, then money year by year in date order) — then the audit log is signed,
# cosigned and verified, and the misuse alerts are scanned. The files and what is planted in
# them: README.md beside this script; they are written by make.py.
#
#     examples/yuanxi-county/load.sh [WORK_DIR]
#
# WORK_DIR (default: a new temporary folder) receives the configuration file, the SQLite
# database, the keys and the bank files `roll send` writes. The county's files are read from
# the folder of this script and never written. Re-running on the same WORK_DIR is refused
# (a county moves in once; `rm -rf WORK_DIR` to start again).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# The project's virtual environment, unless a `fundtrail` is already on the PATH.
if ! command -v fundtrail >/dev/null 2>&1; then export PATH="$ROOT/.venv/bin:$PATH"; fi

WORK="${1:-$(mktemp -d "${TMPDIR:-/tmp}/yuanxi-county.XXXXXX")}"
if [ -e "$WORK/fundtrail.db" ]; then
    echo "$WORK already holds a ledger; give a new folder" >&2
    exit 2
fi
mkdir -p "$WORK/keys" "$WORK/bank"
WORK="$(cd "$WORK" && pwd)"
COUNTY=431299

# A fresh SQLite ledger of its own. A county moving its existing registry in keeps records with
# a wrong ID check character as registered, and has them listed (docs/formats.md, `members`).
cat > "$WORK/fundtrail.toml" <<TOML
[database]
url = "sqlite:///$WORK/fundtrail.db"

[audit]
log_origin = "fundtrail.example/yuanxi-county"
signing_key_file = "$WORK/keys/log.key"
policy_file = "$WORK/keys/policy.txt"

[imports]
accept_wrong_check_character = true
TOML
# Keys of this example only (as scripts/quickstart.sh makes them); a county sets its own.
if [ -z "${FUNDTRAIL_SIGNING_PASSPHRASE:-}" ]; then
    FUNDTRAIL_SIGNING_PASSPHRASE="$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
    (umask 077; echo "$FUNDTRAIL_SIGNING_PASSPHRASE" > "$WORK/keys/passphrase")
fi
export FUNDTRAIL_SIGNING_PASSPHRASE
if [ -z "${FUNDTRAIL_PII_KEYS:-}" ]; then
    (umask 077; {
        echo "FUNDTRAIL_PII_KEYS=$(fundtrail pii-keygen)"
        echo "FUNDTRAIL_PII_INDEX_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
    } > "$WORK/keys/pii.env")
    set -a; . "$WORK/keys/pii.env"; set +a
fi
unset FUNDTRAIL_DATABASE_URL FUNDTRAIL_USER FUNDTRAIL_KEY
# Each person's own key file signs what they do (docs/signatures.md); here all in one folder,
# under the example's passphrase. A county's officers each keep their own.
export FUNDTRAIL_KEY_DIR="$WORK/keys/people" FUNDTRAIL_KEY_PASSPHRASE="$FUNDTRAIL_SIGNING_PASSPHRASE"
mkdir -p "$FUNDTRAIL_KEY_DIR"
ft() { fundtrail --config "$WORK/fundtrail.toml" "$@"; }
step() { echo; echo "== $*"; }

step "keys: the bureau's log key and the county's cosigner; schema"
LOG_VKEY=$(ft keygen --kind log --out "$WORK/keys/log.key")
{
    echo "log $LOG_VKEY"
    echo "witness county $(ft keygen --kind cosigner --name county.yuanxi --out "$WORK/keys/county.key")"
    echo "quorum county"
} > "$WORK/keys/policy.txt"
ft db upgrade

step "the province, the administrator, the county's regions and staff"
ft key new --user admin --out "$FUNDTRAIL_KEY_DIR/admin.key"
ft init --province-code 430000 --province-name 湖南省 --admin admin --admin-name 系统管理员
ft --as admin import regions "$HERE/regions.csv"
# While the ledger has one administrator, that one adds the second alone (setup); from then
# on every user is a request that the other administrator approves (docs/administration.md).
ft --as admin user add admin2 --name 安全管理员 --role admin --region 430000

step "personal keys: the second administrator's approved by the first"
ft key new --user admin2 --out "$FUNDTRAIL_KEY_DIR/admin2.key"
ft --as admin2 key request "$FUNDTRAIL_KEY_DIR/admin2.key.request"
ft --as admin key approve 1

step "the county's staff: requested by one administrator, approved by the other; keys four-eyes"
ft --as admin user add ${COUNTY}_clerk --name 沅溪县乡村振兴局经办 --role clerk --region $COUNTY
ft --as admin user add ${COUNTY}_approver --name 沅溪县财政局审核 --role approver --region $COUNTY
ft --as admin user add ${COUNTY}_reviewer --name 沅溪县财政局复核 --role approver --region $COUNTY
ft --as admin user add ${COUNTY}_auditor --name 沅溪县审计局 --role auditor --region $COUNTY
for request in 1 2 3 4; do
    ft --as admin2 user approve $request
done
n=2
for who in clerk approver reviewer auditor; do
    ft key new --user ${COUNTY}_$who --out "$FUNDTRAIL_KEY_DIR/${COUNTY}_$who.key"
    ft --as admin key request "$FUNDTRAIL_KEY_DIR/${COUNTY}_$who.key.request"
    ft --as admin2 key approve $n
    n=$((n + 1))
done

clerk() { ft --as ${COUNTY}_clerk "$@"; }
approver() { ft --as ${COUNTY}_approver "$@"; }
# Money comes in files, one voucher a line: imported by the clerk (each line a transfer pending
# approval); the approver lists what waits, then approves what the file recorded, one approval
# each (maker–checker). FILE KIND COMMENT
money() {
    clerk import "$2" "$1"
    approver transfer list --pending
    approver approve --file "$1" --kind "$2" --comment "$3"
}
# A roll: created by the clerk, on the village boards 7 working days, approved by the
# approver, sent to the bank (the bank file goes to $WORK/bank), the bank's results imported
# by the approver. WITHDRAW=N withdraws line N before approval; PROJECT=CODE pays the roll from
# that household-programme project (到户项目) instead of the county's own share.
roll() {  # CODE LOT LINES CREATED PUBLISHED APPROVED SENT RESULTS
    clerk roll create "$1" --lot "$2" --county $COUNTY --function-code 2130505 \
        --use household_subsidy --lines "$3" --date "$4" ${PROJECT:+--project "$PROJECT"}
    clerk roll publish "$1" --date "$5"
    if [ -n "${WITHDRAW:-}" ]; then
        clerk roll withdraw "$1" --line "$WITHDRAW" --reason "重复申报" --date "$5"
    fi
    approver roll approve "$1" --date "$6"
    clerk roll send "$1" -o "$WORK/bank/$1.csv" --date "$7"
    approver import-bank-results "$8" --roll "$1"
}
# Money is entered in date order, year by year: an entry dated weeks before entries already on
# the county's books is what the alert STA-05 (倒签记账) looks for.

step "registers: households (建档立卡户, GB18030), members (Excel), policy standards, projects"
clerk import households "$HERE/households.csv"
clerk import members "$HERE/members.xlsx"
clerk import standards "$HERE/standards.csv"
clerk import projects "$HERE/projects.csv"

step "2023: appropriations (指标文件), each lot approved by a colleague of the clerk"
money "$HERE/appropriations-2023.csv" appropriations 指标到账

step "2023: projects approved, funded, implemented (one adjusted), a contractor paid, accepted"
approver project advance XM-2023-01 --to approved --date 2023-02-27 --doc-number 沅政函〔2023〕12号
approver project advance XM-2023-02 --to approved --date 2023-02-27 --doc-number 沅政函〔2023〕12号
approver project advance XM-2023-04 --to approved --date 2023-02-27 --doc-number 沅政函〔2023〕12号
money "$HERE/project-funding-2023.csv" project_funding 资金安排已核
clerk project advance XM-2023-01 --to implementing --date 2023-03-20
clerk project advance XM-2023-02 --to implementing --date 2023-03-25
approver project advance XM-2023-02 --to adjusted --date 2023-06-12 \
    --doc-number 沅乡振〔2023〕19号 --comment "路线调整：硬化里程由3.2公里调整为2.8公里，投资相应调减"
clerk payee add QY43129901 沅溪县鸿达建筑工程有限公司 --kind contractor --region $COUNTY
clerk payee add QY43129902 沅溪县绿源农业开发有限公司 --kind contractor --region $COUNTY

step "2023 rolls: spring 雨露计划 (GB18030); autumn 产业奖补 by 亩 and 雨露计划 (UTF-8)"
# both paid from the household programme XM-2023-04, funded above
PROJECT=XM-2023-04 roll 沅溪-2023-01 1 "$HERE/roll-2023-1.csv" 2023-04-10 2023-04-11 \
    2023-04-24 2023-04-28 "$HERE/bank-result-2023-1.csv"
PROJECT=XM-2023-04 roll 沅溪-2023-02 1 "$HERE/roll-2023-2.csv" 2023-10-09 2023-10-10 \
    2023-10-23 2023-10-27 "$HERE/bank-result-2023-2.csv"
money "$HERE/payments-2023.xlsx" payments 支付凭证已核
approver project advance XM-2023-01 --to accepted --date 2023-11-28 --doc-number 沅乡振验〔2023〕7号
approver project advance XM-2023-02 --to accepted --date 2023-12-06 --doc-number 沅乡振验〔2023〕9号

step "2024: appropriations, projects approved and funded"
money "$HERE/appropriations-2024.csv" appropriations 指标到账
approver project advance XM-2024-01 --to approved --date 2024-02-26 --doc-number 沅政函〔2024〕8号
approver project advance XM-2024-02 --to approved --date 2024-02-26 --doc-number 沅政函〔2024〕8号
clerk project advance XM-2024-01 --to implementing --date 2024-03-18
money "$HERE/project-funding-2024.csv" project_funding 资金安排已核

step "2024 roll (Excel): 产业奖补 and two semesters of 雨露计划; line 5 withdrawn before approval"
WITHDRAW=5 roll 沅溪-2024-01 3 "$HERE/roll-2024-1.xlsx" 2024-08-26 2024-08-27 2024-09-09 \
    2024-09-13 "$HERE/bank-result-2024-1.csv"

step "the bank's differences on the 2024 roll: a fee deducted, another account, the withdrawn line paid"
# Recorded as the bank sent them, each with a transfer moving its money to a receivable of the
# lot; a second approver (复核) reviews them. The household short of its fee is topped up (补足).
clerk roll differences 沅溪-2024-01
for id in $(clerk roll differences 沅溪-2024-01 --json | python3 -c \
        'import json, sys; print(" ".join(str(d["transfer"]) for d in json.load(sys.stdin) if d["transfer"]))'); do
    ft --as ${COUNTY}_reviewer approve "$id" --comment "银行回盘差异已复核"
done
# --json: the transfer's id whatever language the command line speaks (FUNDTRAIL_LANG)
TOPUP=$(clerk roll top-up 沅溪-2024-01 --line 12 --voucher 沅财付〔2024〕0933号 --date 2024-09-20 \
    --json)
echo "$TOPUP"
approver approve "$(echo "$TOPUP" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')" \
    --comment 补足手续费

step "project notices as they were displayed (公示 before implementation, 公告 after acceptance)"
clerk import project_notices "$HERE/project_notices.csv"

step "the civil-affairs deaths list (民政), drawn 2024-12-01"
ft --as ${COUNTY}_clerk import deaths "$HERE/deaths-2024-12-01.csv" --source 沅溪县民政局 \
    --snapshot 2024-12-01

step "checkpoint signed by the bureau and cosigned by the county; full verification"
ft checkpoint sign >/dev/null
ft checkpoint cosign --key "$WORK/keys/county.key" --state "$WORK/keys/county.state" --fresh
ft verify
ft trial-balance | tail -n 2

step "misuse alerts (exit 1 while alerts are open: that is what this step is for)"
set +e
ft --as ${COUNTY}_auditor alerts scan --as-of 2024-12-31
status=$?
set -e
if [ "$status" -ne 1 ]; then
    echo "alerts scan: expected open alerts (exit 1), got exit $status" >&2
    exit 1
fi
echo
echo "Loaded into $WORK (config $WORK/fundtrail.toml; keys in $WORK/keys)."
