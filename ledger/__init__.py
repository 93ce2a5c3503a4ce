"""fundtrail's domain core. One concept per folder, lowest rank first (docs/architecture.md);
a folder imports only itself and the folders above it in this list (tests/test_architecture.py):

i18n/         what a person reads: gettext catalogs (Chinese source, English), 元, Beijing
              time (below core/)
core/         pure values and rules, no database: money, ID numbers, working days, spending
              classification, settings, personal-data encryption, refusals (errors)
audit/tlog/   database-free log formats: RFC 9162 trees, C2SP notes, checkpoints, cosignatures,
              policies, tiles, proofs, the offline verifiers (same rank as core/)
models/       every table, in one registry, with the append-only ones declared per module
store/        engines, sessions, bulk writes, append-only triggers, migrations runner, access
audit/        the database's log: append, checkpoints, verify, export, signing keys, backup
org/          regions and staff sign-in
registers/    lists and registers from outside: deaths, payroll, vehicles, businesses,
              officials, blacklist; approved payees, payee accounts, unit receipts
screening/    checks made as money moves (blacklisted payee, dead head) and the Finding
funds/        lots, accounts, the posting engine, allocation, projects, payments, balances,
              trace, fiscal periods, year end, recoveries
households/   registered households and members, their changes, micro-credit
rolls/        household payment rolls: lifecycle, payments sent, the bank's results settled
reading/      scoped reads for screens and reports
disclosure/   public notices (公告公示): published into the log, their printed content
oversight/    complaints and field-check samples, with the sample's offline verifier
alerts/       the misuse rule catalogue, the rules, scans and the alert lifecycle
imports/      files from other systems: one table of kinds, CSV reading, bank files
demo/         the synthetic province with planted misuse; `alerts eval`
cli/          the `fundtrail` command line (click only), lazily loaded groups
"""
