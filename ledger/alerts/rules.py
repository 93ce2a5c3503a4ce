"""Which function checks which rule (ids and meanings: ledger.alerts.catalogue)."""
from __future__ import annotations

from ledger.alerts.base import shared_payments
from ledger.alerts import rules_diversion as dv, rules_flow as f, rules_household as h, \
    rules_identity as i, rules_oversight as o, rules_stats as st

CHECKS = {
    "FLW-01": f.flw01_late_pass_down, "FLW-02": f.flw02_idle_balance,
    "DIV-01": f.div01_prohibited_use, "DIV-02": dv.div02_payee_not_approved,
    "DIV-03": dv.div03_personal_account, "DIV-05": dv.div05_money_back,
    "E1": f.e1_before_approval,
    "E2": f.e2_before_notice_period, "DUP-01": f.dup01_duplicate_payment,
    "DUP-02": f.dup02_duplicate_other_voucher,
    "SPL-01": f.spl01_split_payments, "STA-05": f.sta05_backdated,
    "BLK-01": f.blk01_blacklisted_payee,
    "BEN-01": h.ben01_paid_after_death, "BEN-06": h.ben06_not_registered,
    "BEN-03": h.ben03_shared_card, "D7": h.d7_over_standard, "WHD-01": h.whd01_short_paid,
    "WHD-02": h.whd02_never_paid, "WHD-04": h.whd04_return_not_repaid,
    "BEN-02": i.ben02_same_person_twice, "BEN-04": i.ben04_public_payroll,
    "BEN-05": i.ben05_assets, "FAV-01": i.fav01_relative_of_official,
    "FAV-02": i.fav02_contractor_of_official, "BEN-08": i.ben08_split_before_enrolment,
    "STA-01": st.sta01_benford, "STA-02": st.sta02_round_amounts,
    "STA-03": st.sta03_non_working_day,
    "G6": o.g6_overdue_complaint, "CMP-01": o.cmp01_substantiated_complaint,
    "CHK-01": o.chk01_field_check_discrepancy,
}


def run_rules(ctx, only=None) -> list:
    findings = []
    with shared_payments(ctx.session):
        for rule_id, check in CHECKS.items():
            if only and rule_id not in only:
                continue
            findings.extend(check(ctx))
    return findings
