"""Every refusal the services raise, listed once, in the order the services check them.

A refusal (`ledger.core.errors.LedgerError`) carries a `code` and `params`; this catalogue says,
for each code, which parameters it carries, a one-line meaning, and an English template that
names the parameters. Callers switch on the code and read the parameters; a translation adds
its own template per code (see `render`) instead of parsing messages.

Order is precedence: when a request breaks several rules, the one listed first is the one
reported. The first part is the posting engine as a payment meets it (`ledger.funds.flows.pay`,
then `ledger.funds.posting.record`, then the checker's `approve`); codes shared by every service
sit where the engine checks them. Then come the codes of each area, each in the order its
services check them. docs/ledger.md ("Refusals") is this table, generated (`python -m
ledger.core.refusals`) and compared by tests/ledger/test_refusals.py.

Parameter conventions: money is integer fen in a name ending in `_fen`; dates are ISO text;
`lot` is a lot id, `transfer_id` a transfer id; regions, projects, payees, households, rolls
and loans are their codes; `field` names an input and `value` is the offending input as its
Python repr (it may not be a number at all); `detail` is a verifier's or library's own text,
passed on for operators.
"""
from __future__ import annotations

import string
from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    code: str
    params: tuple[str, ...]     # always present (a value may be None where the text says so)
    template: str               # English; names only `params`, in braces
    meaning: str                # one line: the rule that was broken
    optional: tuple[str, ...] = ()   # present where the raise site knows them
    section: str = ""


def _catalogue(*sections: tuple[str, list[tuple]]) -> tuple[Refusal, ...]:
    return tuple(Refusal(code, tuple(params.split()), template, meaning,
                         tuple(rest[0].split()) if rest else (), title)
                 for title, entries in sections
                 for code, params, template, meaning, *rest in entries)


CATALOGUE: tuple[Refusal, ...] = _catalogue(
    ("A payment, as the posting engine checks it", [
        ("roll_key_reserved", "key",
         "keys starting with 'roll:' belong to payment rolls; {key} cannot be used",
         "A one-off payment used a key of the form a roll line's payment takes."),
        ("key_missing", "",
         "every transfer needs an idempotency key (e.g. the voucher number)",
         "No idempotency key was given."),
        ("key_taken", "key",
         "idempotency key {key} is already used; choose another",
         "The key belongs to a transfer outside the actor's scope (which is not named)."),
        ("key_reused", "key transfer_id kind amount_fen date fields recorded requested",
         "idempotency key {key} already belongs to transfer #{transfer_id} ({kind}, "
         "{amount_fen}, {date}); this request differs in {fields}",
         "The same key was used before with other content; `recorded` and `requested` map "
         "each differing field to its two values."),
        ("amount_not_fen", "field value",
         "{field} must be a whole number of fen, got {value}",
         "An amount is not an integer number of fen (a fraction, text, a float)."),
        ("amount_not_positive", "field amount_fen",
         "{field} must be positive, got {amount_fen}",
         "An amount is zero or negative."),
        ("amount_too_large", "field amount_fen max_fen",
         "{field} of {amount_fen} is larger than any budget (at most {max_fen})",
         "An amount is beyond any real budget: a typing error."),
        ("not_found", "what key",
         "{what} {key} does not exist",
         "A named thing does not exist (`what`: lot, project, payee, region, household, member, "
         "roll, roll_line, user, transfer, recovery, loan, complaint, sample, alert, database, "
         "backup, …)."),
        ("purpose_unnamed", "function_code use",
         "a payment must name its function code and its use",
         "A payment left out its function code or its use (purpose lock, invariant 4)."),
        ("use_prohibited", "use",
         "use {use} is on the prohibited list",
         "The use is on the negative list special funds may never pay for."),
        ("use_unknown", "use",
         "use {use} is unknown",
         "The use is not in the classification."),
        ("function_outside_lot", "lot function_code allowed",
         "function code {function_code} is outside lot {lot}, which may be spent on "
         "{allowed} only",
         "Spending under a function code the lot does not carry (purpose lock)."),
        ("use_outside_lot", "lot use allowed",
         "use {use} is outside lot {lot}, which allows {allowed} only",
         "Spending on a use the lot does not allow (purpose lock)."),
        ("payment_source_ambiguous", "project county",
         "a payment comes from exactly one of a project or a county's own share",
         "A payment named both or neither of a project and a county."),
        ("project_stage", "project stage doing allowed",
         "project {project} is {stage}: cannot {doing} (allowed while {allowed})",
         "The project's stage does not allow funding or paying out."),
        ("project_function_mismatch", "project project_function_code function_code",
         "project {project} is for function code {project_function_code}; it cannot pay "
         "under {function_code}",
         "A payment out of a project names another function code than the project's."),
        ("not_a_county", "region level",
         "{region} is a {level}, not a county",
         "The service works per county and was given another level (`level` is None for an "
         "unknown region)."),
        ("payee_outside_county", "payee county",
         "payee {payee} lives outside county {county}, which is paying",
         "A county pays only payees inside it."),
        ("no_actor", "action region",
         "{action}: no user given; every change needs an actor",
         "A service was called without a user."),
        ("role_forbidden", "user role action region",
         "{user} ({role}) may not {action}",
         "The user's role does not include the action (clerk records, approver approves, "
         "auditor audits, administrator administers)."),
        ("user_disabled", "user",
         "{user} is disabled",
         "The user was disabled by two administrators (ledger.org.admin_requests)."),
        ("out_of_scope", "user user_region action region",
         "{user} works for region {user_region} and may not {action} in region {region}",
         "The region lies outside the user's own region and those below it."),
        ("region_chain_corrupt", "action region",
         "region {region}: parent chain is corrupt",
         "The regions above this one form a cycle or are deeper than any real chain."),
        ("date_invalid", "field value",
         "{field} must be a date like 2024-03-31, got {value}",
         "A date is not a calendar date (text, a date-time). The engine checks the entry's "
         "date as it records; other services check their dates first."),
        ("voucher_after_posting", "voucher_date date",
         "a transfer is not posted before its voucher: voucher dated {voucher_date}, "
         "posting date {date}",
         "The posting date given is earlier than the voucher's own date (a backdated entry)."),
        ("closed_period", "period date",
         "fiscal period {period} is closed; {date} cannot be used",
         "The entry's date falls in a month closed for the whole ledger, or (`county`) by the "
         "county the entry's region lies in (also checked again at approval).", "county"),
        ("posting_not_fen", "value",
         "posting amount must be a non-zero integer of fen, got {value}",
         "A leg of a transfer is zero or not an integer (invariant 1)."),
        ("unbalanced", "imbalance_fen legs",
         "transfer does not balance within each lot: {imbalance_fen}",
         "The legs do not sum to zero in every lot, or there are fewer than two "
         "(invariant 2); `imbalance_fen` maps lot id to its sum."),
        ("lot_mismatch", "kind lot lots",
         "a {kind} must stay within lot {lot}, but touches lots {lots}",
         "Money would cross lots outside an integration (invariant 3)."),
        ("overdraft", "account_kind holder lot available_fen requested_fen",
         "the {account_kind} account of {holder} in lot {lot} has {available_fen} "
         "available; cannot pay out {requested_fen}",
         "An account would pay out more than it holds, pending outflows counted (invariant 5)."),
        ("text_too_long", "table column limit length",
         "{table}.{column} holds at most {limit} characters; got {length}",
         "Text is longer than its column (checked before the database sees it)."),
        ("text_nul", "table column",
         "{table}.{column} contains a NUL character",
         "Text holds a NUL character, which PostgreSQL cannot store."),
        ("text_not_unicode", "table column",
         "{table}.{column} is not valid Unicode text",
         "Text holds unpaired surrogates."),
        ("payment_refused", "payee name source org date_from date_to",
         "payee {payee} ({name}) is on the violations blacklist ({source}: {org}, from "
         "{date_from}); this deployment refuses such payments",
         "The deployment refuses payments to blacklisted payees (BLK-01, [ledger] "
         "refuse_blacklisted_payees)."),
        ("maker_checker", "user what key",
         "{user} recorded {what} {key} and cannot also approve it",
         "The maker of a transfer or roll tried to approve it (invariant 7)."),
        ("already_decided", "transfer_id decision",
         "transfer #{transfer_id} was already {decision}",
         "A transfer is approved or rejected once."),
        ("storage", "cause uncertain reason",
         "the database refused the change ({reason}); run the command again",
         "The database could not take the change (`cause`: locked, disk, unreachable); "
         "nothing was written, or with `uncertain` the commit's outcome is unknown."),
    ]),
    ("Input any service checks", [
        ("required", "field",
         "{field} is required",
         "A required input is empty."),
        ("required_fields", "fields",
         "every field is required; empty: {fields}",
         "Several required inputs are empty."),
        ("invalid_choice", "field value allowed",
         "{field} must be one of {allowed}, got {value}",
         "An input is not one of the values the service knows."),
        ("date_in_future", "field date",
         "{field} {date} is in the future",
         "A date of something that has happened lies after today."),
        ("dates_reversed", "field start end",
         "{field} ends ({end}) before it starts ({start})",
         "A period's end is before its start.", "line loan"),
        ("year_out_of_range", "value",
         "year must be between 2000 and 2100, got {value}",
         "A year outside the years the ledger covers."),
        ("already_exists", "what key",
         "{what} {key} already exists",
         "A code is taken (by a thing with other content where the service is idempotent)."),
    ]),
    ("Money: lots, allocation, projects, periods, corrections, year end, recoveries", [
        ("lot_without_function_code", "",
         "a fund lot needs at least one function code",
         "A lot was opened without a function code (支出功能分类)."),
        ("lot_without_use", "",
         "a fund lot needs at least one allowed use",
         "A lot was opened without an allowed use."),
        ("function_code_unknown", "function_code",
         "function code {function_code} is not a 21305xx poverty code",
         "The function code is not in the classification."),
        ("function_code_administrative", "function_code",
         "function code {function_code} is administrative; special funds may not be spent "
         "on it",
         "Administrative codes are closed to special funds."),
        ("integrated_appropriated", "",
         "integrated lots are opened by an integration entry, not appropriated",
         "An appropriation named the integrated source level."),
        ("integration_without_sources", "",
         "an integration needs at least one source lot",
         "An integration named no source lot."),
        ("integration_lot_repeated", "lots",
         "each source lot may appear once in an integration; repeated: {lots}",
         "An integration named a source lot twice."),
        ("allocation_not_one_level_down", "from_region to_region to_level",
         "allocation goes one level down to a city or county: {to_region} ({to_level}) is "
         "not directly below {from_region}",
         "Money passes from a unit only to a city or county directly below it."),
        ("project_outside_lot", "project function_code lot allowed",
         "project {project} is for function code {function_code}, outside lot {lot} "
         "({allowed})",
         "A lot funds only projects under one of its function codes."),
        ("project_function_code", "project function_code",
         "project {project}: function code {function_code} is not allowed",
         "A project's function code is unknown or administrative."),
        ("project_stage_skipped", "project stage next_stage requested allowed",
         "project {project} is {stage}; its next stage is {next_stage} (moves open: "
         "{allowed}), not {requested}",
         "Projects move one stage at a time, or to rejected or adjusted where the stage allows "
         "it (`next_stage` is the forward move, None once closed or rejected; `allowed` lists "
         "every open move)."),
        ("project_adjustment_unexplained", "project",
         "project {project}: an adjustment says what changed (the comment)",
         "A project adjustment (项目调整) without the comment saying what changed."),
        ("project_not_approved", "project",
         "project {project} is not approved yet; only approved projects are filed",
         "Filing (备案) comes after approval."),
        ("filing_by_county", "project region",
         "filing (备案) is done by the city or the province, not the county",
         "The county itself tried to file its project."),
        ("period_format", "value",
         "period {value} must be written YYYY-MM, e.g. 2024-03",
         "A fiscal period is a month written YYYY-MM."),
        ("period_already_closed", "period",
         "period {period} is already closed",
         "A period is closed once: for the whole ledger, or (`county`) by that county; a "
         "county's month already closed for the whole ledger is not closed again.", "county"),
        ("not_between_levels", "transfer_id kind",
         "transfer #{transfer_id} is a {kind}, not a transfer between levels; only those "
         "are received",
         "A receipt was recorded for a transfer that does not pass money between levels "
         "(an allocation or a reclaim)."),
        ("not_the_receiver", "transfer_id region user",
         "{user} cannot record the receipt of transfer #{transfer_id}; {region}, which "
         "received it, records it",
         "A receipt is recorded by a clerk of the receiving unit itself, not by the level "
         "above that sent the money."),
        ("received_before_issue", "transfer_id issued received_date",
         "transfer #{transfer_id} was issued on {issued}; it cannot have been received on "
         "{received_date}",
         "The receipt date is before the transfer's issue (voucher, else posting) date."),
        ("receipt_of_rejected", "transfer_id",
         "transfer #{transfer_id} was rejected by its issuer; nothing was sent",
         "A receipt was recorded for a transfer its issuing level rejected."),
        ("already_received", "transfer_id",
         "transfer #{transfer_id} is already recorded as received",
         "A transfer is received once."),
        ("reversal_of_reversal", "transfer_id",
         "transfer #{transfer_id} is itself a reversal; record a new transfer",
         "A reversal is not reversed again."),
        ("reverse_unapproved", "transfer_id",
         "transfer #{transfer_id} is not approved; reject it instead",
         "Only approved transfers are reversed."),
        ("already_reversed", "transfer_id reversal_id",
         "transfer #{transfer_id} already has reversal #{reversal_id}",
         "A transfer is reversed once (unless that reversal was rejected)."),
        ("factors_missing", "",
         "factor allocation needs at least one factor with a positive weight",
         "A factor plan without factors."),
        ("factor_counties_missing", "",
         "factor allocation needs at least one county",
         "A factor plan without counties."),
        ("factor_weight_negative", "factor weight",
         "factor {factor}: weight must not be negative",
         "A factor weight below zero."),
        ("factor_value_invalid", "county factor value",
         "county {county}: factor {factor} must be a positive whole number, got {value}",
         "A county's factor input is not a positive integer."),
        ("county_outside_province", "county province",
         "county {county} is not in province {province}",
         "A factor plan names a county of another province."),
        ("factor_plan_missing", "plan city",
         "no factor plan {plan} passes money to city {city}",
         "The city has no approved share of that plan to pass down."),
        ("reclaim_not_upward", "from_region to_region",
         "money is taken back by a finance unit above the one holding it: {to_region} is "
         "not above {from_region}",
         "Idle money goes back up the chain only (收回统筹)."),
        ("reclaim_nothing_held", "region lot",
         "{region} holds nothing of lot {lot}",
         "The unit has no account in the lot."),
        ("reclaim_exceeds_idle", "region lot idle_fen requested_fen min_idle_days date",
         "{region}'s share of lot {lot} holds {idle_fen} idle for more than "
         "{min_idle_days} days on {date}; {requested_fen} cannot be taken back",
         "Only money idle long enough may be taken back."),
        ("no_county", "region",
         "region {region} does not lie in a county",
         "A recovery or loan needs the county its payee lives in."),
        ("recovery_due_before_opened", "case due_date date",
         "recovery {case}: due date {due_date} is before the case is opened ({date})",
         "A recovery's due date precedes its opening."),
        ("recovery_source_not_payment", "case transfer_id lot",
         "recovery {case}: transfer #{transfer_id} is not a payment from lot {lot}",
         "The transfer a recovery names is not a payment from its lot."),
        ("recovery_source_other_payee", "case transfer_id payee",
         "recovery {case}: transfer #{transfer_id} did not pay {payee}",
         "The transfer a recovery names paid someone else."),
        ("recovery_claim_unapproved", "case transfer_id decision",
         "recovery {case}: its claim (transfer #{transfer_id}) is {decision}; approve the "
         "claim before recording money that came back",
         "Collections wait for the claim's approval (`decision` is None while pending)."),
        ("recovery_overcollected", "case owed_fen requested_fen",
         "recovery {case}: {owed_fen} is still owed; cannot collect {requested_fen}",
         "More would be collected than the case still owes (pending collections count)."),
    ]),
    ("Regions, staff and sign-in", [
        ("no_province", "",
         "no province region is recorded yet (fundtrail init)",
         "The ledger has not been initialised."),
        ("already_bootstrapped", "",
         "this database already has users; bootstrap runs only once",
         "Initialisation was run on a ledger that has users."),
        ("region_code_format", "value",
         "region code {value} must be 2–12 digits (行政区划代码)",
         "A region code is not 2 to 12 ASCII digits."),
        ("region_level", "region parent_level expected level",
         "region {region}: a {parent_level}'s child must be a {expected}, not a {level}",
         "Regions go province, city, county, township, village (`expected` None below a "
         "village)."),
        ("password_too_short", "min_length",
         "a password needs at least {min_length} characters",
         "The password is too short."),
        ("password_too_long", "max_length",
         "a password has at most {max_length} characters",
         "The password is too long to hash safely."),
        ("password_guessable", "",
         "this password is too easy to guess (repeated characters or the username)",
         "The password repeats characters or contains the username."),
        ("sign_in_rate_limited", "",
         "too many failed sign-ins from this address; try again later",
         "The client address failed too often in the window."),
        ("sign_in_locked", "minutes",
         "this account is locked after repeated failed sign-ins; try again in {minutes} "
         "minutes",
         "The account failed too often in the window."),
        ("sign_in_failed", "",
         "wrong username or password",
         "Sign-in failed (never says whether the username exists)."),
        ("admin_request_kind", "kind",
         "no such administrative request: {kind}",
         "An administrative request of a kind the ledger does not know."),
        ("admin_request_field", "field value",
         "administrative request: {field} is missing or wrong, got {value}",
         "A request lacks what its kind needs (a role, a new password)."),
        ("admin_request_moot", "kind target",
         "{kind} for {target} would change nothing",
         "Disabling a disabled user, or enabling one who is not disabled."),
        ("admin_request_pending", "request kind target",
         "request {request} ({kind} for {target}) is still waiting for a second administrator",
         "The same change is already waiting for a second administrator."),
        ("admin_request_decided", "request",
         "request {request} is already decided",
         "A request is approved or refused once."),
        ("four_eyes_same_admin", "user request",
         "{user} filed request {request}; a second administrator must decide it",
         "The administrator who asked for a change may not approve it (four eyes)."),
        ("four_eyes_own_account", "user request",
         "request {request} is about {user}; another administrator must decide it",
         "Nobody decides a request about their own account."),
        ("four_eyes_required", "user change target",
         "{user} may not make the change {change} for {target} alone; a second administrator "
         "approves a request for it",
         "From the second administrator on, a new user or a password set for someone else "
         "takes effect only through an approved request (ledger.org.admin_requests)."),
    ]),
    ("Households, members and micro-credit", [
        ("not_a_village", "region level",
         "{region} is a {level}, not a village",
         "Households and complaints about places belong to villages."),
        ("number_character", "field character codepoint name position looks_like",
         "{field}: character {character} ({codepoint} {name}) at position {position} is not "
         "a digit",
         "A number (ID, card, amount) holding a character that is none of its digits after "
         "NFKC: a letter typed for a digit (O, l), a digit of another script (٤), a Cyrillic "
         "or Greek lookalike; `looks_like` is the digit it passes for, or None."),
        ("bank_card_invalid", "",
         "a bank card number has 12 to 19 digits",
         "A bank card number of the wrong shape."),
        ("id_number_invalid", "problem",
         "the ID number is not valid ({problem})",
         "A resident ID number cannot be right (`problem`: length, characters, birth_date, "
         "check_character).", "household member"),
        ("member_duplicate", "household",
         "this person is already a member of household {household}",
         "The same ID number twice in one household."),
        ("status_not_allowed", "household status since requested allowed",
         "household {household} is {status} since {since}; it can become: {allowed}",
         "The status change is not one the household's status allows."),
        ("status_backdated", "household status since date",
         "household {household} became {status} on {since}; a later change cannot be dated "
         "{date}",
         "A status change dated before the latest one."),
        ("household_not_yet_registered", "household registered date",
         "household {household} was registered on {registered}; nobody can join it on {date}",
         "A member joins a household before it existed."),
        ("household_closed", "household status",
         "household {household} is {status}; members cannot join it",
         "A removed or cancelled household takes no members."),
        ("household_not_enrolled", "household",
         "household {household} is not enrolled (formed by a split, enrolled later)",
         "A status is asked of, or a status history line given for, a household a split "
         "formed and nobody has enrolled yet (`household enrol`)."),
        ("household_already_enrolled", "household enrolled log_index",
         "household {household} was enrolled on {enrolled} (log entry {log_index})",
         "A household is enrolled once; a second enrolment, or another enrolment date."),
        ("enrolment_before_split", "household split_on enrolled",
         "household {household} was formed by a split on {split_on}; it cannot be enrolled on "
         "{enrolled}",
         "A split-off household enrolled before the day it was formed."),
        ("split_date_conflict", "household from_household recorded given log_index",
         "household {household} split from {from_household} on {recorded} (log entry "
         "{log_index}), not on {given}",
         "A split into a household already linked to the same household on another date."),
        ("household_status_conflict", "household date recorded given log_index",
         "household {household} is recorded {recorded} on {date} (log entry {log_index}), not "
         "{given}",
         "A status history line with another status on a day the household's status is "
         "recorded."),
        ("member_gone", "member household event date",
         "member #{member} of household {household} already {event} on {date}",
         "The member already died or moved out."),
        ("member_dead", "member date",
         "member #{member} died on {date} (as registered)",
         "The member was registered as dead."),
        ("member_dates_reversed", "member household joined left",
         "member #{member} of household {household} joined on {joined} and left on {left}: "
         "leaving cannot come first",
         "A member leaves before the recorded day they joined, or joins after they left."),
        ("member_event_conflict", "member household event recorded given log_index",
         "member #{member} of household {household}: {event} is recorded on {recorded} (log "
         "entry {log_index}), not on {given}",
         "The member's joining, death or leaving is already recorded with another date."),
        ("member_already_in", "member household",
         "member #{member} is already in household {household}",
         "A move into the household the member is in."),
        ("split_head_stays", "member",
         "the new household's head must be one of the members who move",
         "A split names a head who does not move."),
        ("members_elsewhere", "members household",
         "members {members} are not in household {household}",
         "A split names members of another household."),
        ("split_moves_everyone", "household",
         "a split leaves members in {household}; to move everyone, merge or cancel the "
         "household instead",
         "A split would leave the old household empty."),
        ("merge_into_itself", "household",
         "a household cannot merge into itself",
         "A merge with the same household on both sides."),
        ("loan_reused", "loan fields recorded requested",
         "loan {loan} is already recorded with other figures: {fields}",
         "The same contract number with other figures."),
        ("loan_above_limit", "loan principal_fen max_fen",
         "loan {loan}: principal {principal_fen} is above the micro-credit limit of "
         "{max_fen}",
         "A loan above the micro-credit limit."),
        ("loan_term", "loan value max_months",
         "loan {loan}: term must be 1–{max_months} months, got {value}",
         "A loan term outside the allowed months."),
        ("loan_rate", "loan value max_bp",
         "loan {loan}: annual rate must be a whole number of basis points between 1 and "
         "{max_bp}, got {value}",
         "A loan rate that is not a plausible rate in basis points."),
        ("loan_household_ineligible", "loan household status",
         "loan {loan}: household {household} is {status} and not eligible",
         "Removed and cancelled households get no loans."),
        ("loan_household_limit", "loan household running running_fen principal_fen max_fen",
         "loan {loan}: household {household} already has {running} running; together they "
         "would exceed the micro-credit limit of {max_fen} per household",
         "The household's running loans and this one exceed the limit."),
        ("loan_event_before_start", "loan start_date date",
         "loan {loan} started on {start_date}; an event cannot come before it ({date})",
         "A loan event dated before the loan."),
        ("subsidy_zero", "loan start end",
         "loan {loan}: the subsidy for {start}–{end} rounds to nothing",
         "The interest subsidy of the period is less than one fen."),
        ("subsidy_before_loan", "loan start_date start",
         "loan {loan} started on {start_date}; no subsidy for {start}",
         "A subsidy period starting before the loan."),
        ("subsidy_household_ineligible", "loan household status date",
         "loan {loan}: household {household} is {status} by {date} and no longer eligible "
         "for the subsidy",
         "The household left the programme before the period's end."),
        ("subsidy_after_stop", "loan stops start end",
         "loan {loan}: no subsidy from {stops}; the period {start}–{end} runs past it",
         "The period runs past the loan's end, repayment, default or misuse."),
        ("subsidy_overlap", "loan start end earlier_start earlier_end transfer_id",
         "loan {loan}: {start}–{end} overlaps the period {earlier_start}–{earlier_end} "
         "already subsidised (transfer #{transfer_id})",
         "Each day of a loan is subsidised once."),
    ]),
    ("Cards over time: the card register and the card a line pays", [
        ("card_member_by_kind", "kind",
         "a household card names no member; a personal or guardian card names the member it "
         "pays (a {kind} card)",
         "A household card naming a member, or a personal or guardian card naming none."),
        ("card_member_unknown", "household member",
         "member #{member} is not a member of household {household}",
         "A card names a member (the holder of a personal card, the ward of a guardian card) "
         "who is not in the household (`member` None when named by an ID number)."),
        ("card_holder_needed", "",
         "a guardian card names its guardian: a registered member or a name",
         "A guardian card without its guardian."),
        ("card_guardian_unknown", "",
         "the guardian's ID number is no registered member's (give only the name for a "
         "guardian outside the registry)",
         "A card import line names its guardian by an ID number no member has."),
        ("card_replaces_other", "replaces household",
         "card #{replaces} is not a card of the same household, kind and member ({household})",
         "A replacement (换卡) of another household's card, or of a card of another kind or "
         "member."),
        ("card_dates_reversed", "card opened closed",
         "card #{card} was opened on {opened}; it cannot close on {closed}",
         "A closing, or a replacement's opening, before the card was opened."),
        ("card_already_registered", "card household",
         "card #{card} of household {household} is this number, open, for the same holder",
         "The same card recorded twice while it is open."),
        ("card_already_closed", "card closed",
         "card #{card} was closed on {closed}",
         "A card closes once (a re-imported closing on another date, or a replacement after "
         "the old card closed)."),
        ("card_replaced_unknown", "household",
         "原卡号 names no card of household {household} of the same kind and member",
         "A card import line replaces a card not in the register (import the old card first, "
         "on an earlier line or file)."),
        ("card_none_open", "household member date", "no card of household {household} is "
         "open on {date} to pay this line (member {member})",
         "No card is open on the roll's date for a line: the member's personal or guardian card "
         "(per-person items) or the household card (`member` None on a per-household line).",
         "line"),
    ]),
    ("Payment rolls and the bank's results", [
        ("roll_code_reused", "roll log_index",
         "payment roll {roll} exists (log entry {log_index}) with other content",
         "The same roll code with other lines or figures."),
        ("roll_empty", "",
         "a roll needs at least one household line",
         "A roll without lines."),
        ("roll_line_duplicate", "line household",
         "line {line} ({household}): the household is on the roll twice",
         "A household appears twice on a roll for the same item (and, for a per-person item, "
         "the same member)."),
        ("roll_line_quantity", "line household value",
         "line {line} ({household}): quantity must be a whole number ≥ 1, got {value}",
         "A line's quantity is not a positive integer (of units, or of hundredths on a line of "
         "the standards table)."),
        ("roll_line_no_item", "line household",
         "line {line} ({household}): the line names no item and the roll has none",
         "A line of a roll without an item of its own (no --item) names no item."),
        ("roll_line_member_unknown", "line household",
         "line {line} ({household}): the member named is not a member of the household",
         "A line names a member (by ID number or member id) who is not in the household."),
        ("roll_line_member_needed", "line household item",
         "line {line} ({household}): {item} is paid per person; the line must name the member",
         "A line of a per-person item names no member."),
        ("roll_line_no_standard", "line household item tier year county",
         "line {line} ({household}): no standard for {item} ({tier}, {year}) in county "
         "{county}, and the line gives no amount",
         "A line to be priced from the standards table has no standard there (and no amount "
         "as the county kept it)."),
        ("roll_standard_differs", "line household item tier year standard_fen roll_standard_fen",
         "line {line} ({household}): --standard gives {roll_standard_fen} for {item}, but "
         "the county's standard for {tier}, {year} is {standard_fen}",
         "A roll's own --standard that disagrees with the standards table for the same item: "
         "one roll would pay the same item at two standards."),
        ("roll_line_withdraw_after_approval", "roll line",
         "line {line} of roll {roll}: the roll is approved; only an approver withdraws a line now",
         "A clerk withdrawing a line the approver has already approved."),
        ("roll_line_unknown_household", "line household",
         "line {line}: household {household} does not exist",
         "A line names an unregistered household."),
        ("roll_line_outside_county", "line household county",
         "line {line} ({household}): the household lives outside county {county}",
         "A line names a household of another county."),
        ("roll_line_outside_township", "line household township",
         "line {line} ({household}): the household lives outside township {township}, which "
         "prepares this roll",
         "A township's clerk preparing a county roll named a household outside the township's "
         "villages."),
        ("roll_line_no_card", "line household",
         "line {line} ({household}): the household has no bank card to pay to",
         "A household on a roll has no bank card (惠民惠农一卡通)."),
        ("roll_line_ineligible", "line household status date",
         "line {line} ({household}): the household is {status} on {date} and cannot be paid",
         "A household removed, cancelled or not yet registered on the roll's date (`status` "
         "None when not yet registered)."),
        ("roll_lines_refused", "count lines",
         "{count} lines cannot be paid; nothing was created",
         "Several household lines of a roll are refused at once (each with its line, code and "
         "params), so that the file is fixed once; one such line keeps its own refusal."),
        ("roll_already_published", "roll published",
         "roll {roll} was already published on {published}",
         "A roll is published once."),
        ("roll_published_before_created", "roll published created",
         "roll {roll} is dated {created}; it cannot have been published on {published}",
         "A publication dated before the roll's own date (the date it was created with)."),
        ("roll_household_several_lines", "roll household lines",
         "household {household} has several lines on roll {roll} (lines {lines}); name the line",
         "An objection or decision named a household that has several lines; it must name the "
         "line number."),
        ("roll_line_not_open", "roll line",
         "line {line} of roll {roll} is already held or withdrawn",
         "An objection to a line that is not open, or a withdrawal of one already withdrawn."),
        ("roll_line_sent", "roll line",
         "line {line} of roll {roll} is already with the bank",
         "An objection or a withdrawal after the line was sent: it is a complaint now."),
        ("roll_withdraw_reason", "roll line",
         "withdrawing line {line} of roll {roll} needs its reason",
         "A line was withdrawn (撤销) without a reason."),
        ("roll_line_no_objection", "roll line",
         "line {line} of roll {roll} has no open objection",
         "A decision on an objection that is not there."),
        ("roll_not_published", "roll",
         "roll {roll} has not been published; it must be on the board first",
         "Approval before publicity (invariant 9)."),
        ("roll_publicity_running", "roll published working_days earliest",
         "roll {roll} was published on {published}; it must stay on the board for "
         "{working_days} working days and can be approved from {earliest}",
         "Approval before the publicity window ended."),
        ("roll_already_approved", "roll",
         "roll {roll} is already approved",
         "A roll is approved once."),
        ("roll_not_approved", "roll",
         "roll {roll} is not approved",
         "A roll goes to the bank only once approved."),
        ("roll_sent_before_approval", "roll approved date",
         "roll {roll} was approved on {approved}; it cannot be sent on {date}, before that",
         "A send date before the approval date."),
        ("roll_nothing_returned", "roll",
         "roll {roll} has no lines returned by the bank that are not already repaid",
         "A repayment roll with nothing to repay."),
        ("roll_project_other_county", "project project_county county",
         "project {project} belongs to county {project_county}, not {county}",
         "A roll set to pay from another county's project."),
        ("roll_line_not_returned", "roll line",
         "roll {roll} line {line} is not a line the bank returned that is still to be repaid",
         "A repayment roll asked for a line that was paid, or already repaid."),
        ("topup_waits_for_review", "roll line transfer_id",
         "roll {roll} line {line}: the bank's difference (transfer #{transfer_id}) is waiting "
         "for review; top up after it",
         "A top-up (补足) of a line whose short credit is not reviewed yet."),
        ("topup_exceeds_shortfall", "roll line owed_fen amount_fen",
         "roll {roll} line {line}: {owed_fen} credited short is left to top up; "
         "{amount_fen} cannot be",
         "A top-up (补足) larger than what the bank credited short, or with nothing short."),
        ("encoding_unknown", "encoding",
         "{encoding} is not a text encoding (try gb18030 or utf-8)",
         "The bank file's encoding is not one Python knows."),
        ("encoding_cannot_write", "encoding text",
         "the bank file cannot be written in {encoding}: {text} has no code there",
         "A name cannot be written in the bank file's encoding."),
        ("bank_line_repeated", "line other",
         "line {line} is in the bank file twice (also at file line {other})",
         "A result file that gives one line twice: the file contradicts itself (a difference "
         "from the roll is recorded, never refused)."),
        ("bank_difference_pending", "line transfer_id",
         "line {line}: the difference an earlier bank file recorded (transfer #{transfer_id}) "
         "is waiting for review; review it, then import this file",
         "A return after payment whose money sits where an earlier difference, not yet "
         "reviewed, put it."),
        ("bank_payment_mismatch", "line household amount_fen",
         "line {line}: the payment recorded under its key does not pay {amount_fen} to "
         "{household} from this roll's lot",
         "The payment under the line's key is not the line's payment."),
    ]),
    ("Registers and lists from outside", [
        ("list_empty", "kind",
         "the {kind} list is empty",
         "An external list or register without lines."),
        ("register_line_type", "kind expected",
         "a {kind} register takes {expected} lines",
         "A register given lines of another kind."),
        ("register_amount_invalid", "line value",
         "line {line}: an amount received is a positive whole number of fen",
         "A unit-receipts line without a positive amount in fen."),
        ("register_contract_invalid", "line field value",
         "line {line}: {field} is a positive whole number",
         "An approved-payees line whose contract amount or number of instalments is not "
         "positive."),
        ("register_receiver_missing", "line",
         "line {line}: say who received the money",
         "A unit-receipts line names neither a unit's region nor a person."),
        ("register_last4_invalid", "line",
         "line {line}: keep the account's last four digits",
         "A payee-accounts line without four digits."),
        ("register_holder_id_missing", "line",
         "line {line}: a personal account needs its holder's ID number",
         "A personal account without its holder (DIV-03 needs it)."),
        ("snapshot_reused", "kind source date log_index",
         "{kind} from {source} dated {date} was imported before (log entry {log_index}) with "
         "other content; give the new snapshot its own date",
         "The same source and date with other content."),
    ]),
    ("Payees: businesses, persons, units", [
        ("payee_identity_mismatch", "kind field",
         "a {kind} payee is not identified by {field}",
         "A payee given an identity its kind does not carry (a credit code for a person, an "
         "ID number for a business; households and contractors carry none)."),
        ("credit_code_invalid", "problem",
         "the unified social credit code is not valid ({problem})",
         "A unified social credit code cannot be right (GB 32100: `problem` is length, "
         "characters, department, division or check_character)."),
        ("credit_code_department", "kind department",
         "a {kind} payee's code is not issued by registration department {department}",
         "A business with a government unit's code (department 1) or a unit with a "
         "business's (department 9): the kind is wrong."),
        ("home_county_format", "value",
         "home county {value} is not a six-digit division code",
         "A payee's home county is not a six-digit division code."),
        ("payee_identity_taken", "payee",
         "payee {payee} of the same county has this credit code or ID number",
         "The same business, unit or person under a second payee code in one county."),
        ("relative_unidentified", "",
         "a relative is declared by ID number, or by name and birth date",
         "An official's relative declared with neither an ID number nor a birth date."),
    ]),
    ("Public notices", [
        ("subject_separator", "field value",
         "{field} {value} may not contain ';' or '='",
         "A notice subject's part holds a separator."),
        ("project_notice_region", "project region county",
         "{region} is not in county {county} of project {project}",
         "A project notice displayed outside the project's county."),
        ("notice_without_village", "",
         "name at least one village whose board posts the notice",
         "Project details name no village."),
        ("not_a_village_of_county", "region county",
         "{region} is not a village of county {county}",
         "A project notice posted outside its county."),
        ("notice_too_short", "days minimum",
         "a project notice is displayed for at least {minimum} days, not {days}",
         "The display is shorter than the configured minimum."),
        ("supervision_phone_missing", "county",
         "county {county} has no supervision phone on record",
         "Notices print the county's supervision phone; none is recorded."),
        ("notice_details_missing", "project",
         "project {project} has no notice details yet",
         "A project notice before its details were recorded."),
        ("notice_village_not_named", "project village villages",
         "project {project} is not posted in village {village} (its details name "
         "{villages})",
         "A project notice for a village its details do not name."),
        ("roll_not_in_village", "roll village",
         "roll {roll} has no household in village {village}",
         "A roll notice for a village with no line."),
        ("notice_unpublished", "kind subject",
         "no {kind} notice for {subject} has been published",
         "Printing a notice that was never published."),
        ("notice_altered", "notice log_index",
         "notice #{notice} (log entry {log_index}) no longer recomputes to the rows it "
         "published",
         "The ledger no longer gives the notice's rows: run verify."),
        ("policy_missing", "",
         "a policy file is needed to print a verifiable notice: set [audit] policy_file",
         "No published keys and quorum were configured."),
        ("notice_checkpoint_size", "size log_index",
         "no checkpoint of size {size} covers the notice (log entry {log_index})",
         "The checkpoint asked for does not cover the notice."),
        ("notice_not_checkpointed", "log_index",
         "no checkpoint covers the notice (log entry {log_index}) yet",
         "Sign and cosign a checkpoint before printing."),
        ("notice_quorum_missing", "log_index detail",
         "checkpoints cover the notice (log entry {log_index}) but none meets the policy's "
         "quorum",
         "The covering checkpoints lack cosignatures."),
    ]),
    ("Complaints and field-check samples", [
        ("receipt_malformed", "what key",
         "{key} is not a receipt number (11 letters and digits)",
         "A complaint receipt of the wrong shape (a NotFound: nothing is revealed)."),
        ("receipt_mistyped", "what key",
         "receipt {key} has a typing error (its check symbol does not match)",
         "A complaint receipt whose check symbol is wrong."),
        ("complaint_unroutable", "region",
         "region {region} has no county and finance unit above it",
         "A complaint about a place no county handles."),
        ("officer_required", "action region channel",
         "only complaints filed online today need no officer",
         "Calls, letters and visits are recorded by an officer."),
        ("phone_invalid", "value",
         "phone {value} is not a telephone number",
         "A complainant's phone of the wrong shape."),
        ("handler_outside_unit", "user region",
         "{user} does not work for the handling unit ({region}) or above it",
         "A handler from outside the handling unit."),
        ("handler_in_subject_region", "user action region complaint",
         "{user} works in the region complained about",
         "The region complained about may not handle the complaint."),
        ("not_handler", "user action region complaint",
         "{user} is not the officer handling complaint {complaint}",
         "Only the assigned officer moves a complaint on."),
        ("complaint_step_not_allowed", "complaint state step",
         "complaint {complaint} is {state}; it cannot be {step} now",
         "A complaint step out of order."),
        ("complaint_step_date", "complaint step date earliest",
         "{step} date {date} must lie between {earliest} (the previous step) and today",
         "A complaint step dated before the previous one or in the future."),
        ("identity_hidden", "user action region complaint",
         "{user} may not see who filed complaint {complaint}",
         "Only the handling officer and auditors see the complainant."),
        ("reader_in_subject_region", "user action region complaint",
         "{user} works in the region complained about",
         "The region complained about may not read the case file."),
        ("sample_risk_weight", "value",
         "the risk weight must be a whole number of at least 1",
         "A sample's risk weight below one."),
        ("sample_too_large", "county size detail",
         "county {county}: a sample of {size} cannot be drawn",
         "The sample is larger than the frame allows."),
        ("sample_size", "value",
         "the sample size must be at least 1",
         "An empty sample."),
        ("sample_risk_without_strata", "strata",
         "risk households are used only with strata 'village+risk'",
         "Risk households given with plain village strata."),
        ("sample_frame_empty", "county",
         "county {county} has no registered households to sample",
         "Nothing to sample."),
        ("beacon_invalid", "detail",
         "the beacon must name exactly a witness and its cosigner key",
         "The beacon witness is malformed."),
        ("sample_policy_unexpected", "sample",
         "sample {sample} was committed without a policy",
         "A policy given for a sample committed without one."),
        ("sample_policy_differs", "sample policy_sha256",
         "sample {sample} was committed under the policy file with SHA-256 {policy_sha256}",
         "Another policy file than the one fixed at commitment."),
        ("sample_already_drawn", "sample",
         "sample {sample} has been drawn already; a sample is drawn once",
         "A second draw."),
        ("sample_checkpoint_too_old", "size log_index",
         "checkpoint of size {size} is older than the commitment (log entry {log_index})",
         "The draw's checkpoint existed before the frame was fixed."),
        ("sample_checkpoint_not_first", "size first_size",
         "the draw must use the first checkpoint after the commitment ({first_size}), not "
         "the one of size {size}",
         "The inspector has no choice of checkpoint."),
        ("sample_quorum_missing", "log_index",
         "no checkpoint after the commitment (log entry {log_index}) has the cosignatures "
         "required yet",
         "Gather cosignatures before the draw."),
        ("sample_not_checkpointed", "log_index",
         "no checkpoint includes the commitment (log entry {log_index}) yet",
         "Sign a checkpoint before the draw."),
        ("sample_not_drawn", "sample",
         "sample {sample} has not been drawn yet",
         "Visits and publication come after the draw."),
        ("sample_household_not_drawn", "sample household",
         "household {household} was not drawn in sample {sample}",
         "Only drawn households are visited."),
    ]),
    ("The audit log: checkpoints, export, backup", [
        ("tree_node_missing", "level index",
         "audit tree node ({level}, {index}) is missing",
         "The stored Merkle tree lacks a node: run verify."),
        ("log_key_other_origin", "key origin",
         "the log key is named {key} but this log's origin is {origin}",
         "Signing with another log's key."),
        ("no_checkpoint", "",
         "no checkpoint has been signed yet (fundtrail checkpoint sign)",
         "Cosigning or exporting before any checkpoint."),
        ("checkpoint_invalid", "size detail",
         "checkpoint {size} does not verify",
         "A checkpoint's signatures do not verify (`size` None when it cannot be read)."),
        ("cosigner_state_other_log", "path state_origin origin",
         "{path} belongs to log {state_origin}, not {origin}",
         "A cosigner's state file of another log."),
        ("log_shrank", "cosigned_size size",
         "the log shrank from {cosigned_size} to {size} entries since you last cosigned",
         "A cosigner refuses a log that lost entries."),
        ("log_inconsistent", "cosigned_size size detail",
         "the log is not consistent with the checkpoint of size {cosigned_size} you cosigned "
         "before",
         "A cosigner refuses a log that rewrote history."),
        ("cosigner_state_damaged", "path detail",
         "{path}: cosigner state is damaged; restore it from your own backup",
         "A cosigner's state file cannot be read."),
        ("cosigner_no_state", "path",
         "{path}: no cosigner state; restore it, or say --fresh for a first cosignature",
         "A cosigner without a state file would cosign a log it has never seen."),
        ("cosigner_state_exists", "path",
         "{path}: a cosigner state exists; starting fresh would forget it",
         "--fresh given to a cosigner that already has a state."),
        ("checkpoint_unknown", "size",
         "this log signed no checkpoint of size {size} with that root",
         "A witness's cosignature for a checkpoint this log never signed."),
        ("cosignature_unverified", "size",
         "no cosignature on the note of size {size} verifies against a witness key",
         "A cosignature posted by someone who is not a witness of the policy."),
        ("witness_no_log_key", "",
         "a witness needs the log's public key",
         "A witness set up without (or with an unusable) log key."),
        ("witness_exists", "path",
         "{path} exists: this directory already holds a witness",
         "Setting up a witness over another one's state."),
        ("witness_not_initialised", "path",
         "{path}: no witness here (fundtrail witness init)",
         "Running a witness that was never set up."),
        ("witness_fetch_failed", "url detail",
         "{url}: cannot be fetched",
         "A witness cannot read the log's public endpoints."),
        ("no_other_log_checkpoint", "unsigned",
         "no other log of this database has a signed checkpoint to record",
         "County heads recorded before any county log was signed."),
        ("no_quorum_checkpoint", "",
         "no checkpoint has met the policy's quorum yet",
         "Exporting before a checkpoint has its cosignatures."),
        ("entry_too_large", "kind size limit",
         "the change {kind} would write an audit entry of {size} bytes; the log holds at "
         "most {limit} per entry (nothing was recorded)",
         "A service tried to log more in one entry than the tlog-tiles format holds, instead "
         "of splitting its change into parts: a defect to report; nothing was written."),
        ("file_not_written", "path reason",
         "{path} was not written ({reason}); no partial copy was left",
         "A file with personal data (a bank file, a visit list) could not be written whole: "
         "the disk is full, a size limit, a permission; the change it belonged to is not "
         "recorded."),
        ("bundle_not_written", "detail",
         "the audit bundle cannot be written: {detail}",
         "Writing the export bundle failed."),
        ("policy_invalid", "detail",
         "policy: {detail}",
         "The policy file does not parse."),
        ("backup_not_sqlite", "backend",
         "fundtrail backup/restore copy SQLite files; for {backend} use its own tools",
         "Backup of a database that is not SQLite."),
        ("backup_not_a_file", "",
         "the database is not a file; there is nothing to back up",
         "An in-memory database."),
        ("backup_onto_itself", "path",
         "the backup must go to another file than the database itself",
         "A backup over the live database."),
        ("restore_would_replace", "path entries backup_entries",
         "{path} already holds a ledger with {entries} log entries; say --replace to replace "
         "it",
         "A restore over a ledger that holds entries."),
        ("backup_unreadable", "path detail",
         "{path}: not a sound SQLite database",
         "The file is not SQLite or fails SQLite's integrity check."),
        ("backup_not_a_ledger", "path detail",
         "{path}: not a fundtrail ledger",
         "The file is SQLite but not a ledger."),
        ("backup_not_intact", "path findings",
         "{path}: the copy does not verify",
         "The copy's log does not verify."),
        ("backup_copy_failed", "source destination detail",
         "copying {source} to {destination} failed",
         "SQLite could not copy the file."),
    ]),
    ("Imports: the refusal, and the problems it lists", [
        ("import_needs_pii_keys", "kind",
         "importing {kind} needs the personal-data keys (FUNDTRAIL_PII_KEYS)",
         "An import of personal data without keys."),
        ("import_detail_missing", "kind",
         "an external list ({kind}) needs --source and --snapshot",
         "A list or register imported without its source or snapshot date."),
        ("import_problems", "count problems",
         "{count} problem(s); nothing was imported",
         "The file cannot be imported; `problems` lists each as file, line, column, code, "
         "params and reason, with the codes below or a service's own."),
        ("file_too_large", "max_bytes",
         "file is larger than {max_bytes} bytes",
         "An import file beyond the size limit."),
        ("file_encoding", "line position encoding detail",
         "the file is neither UTF-8 nor GB18030 text: line {line}, character {position}: "
         "{detail} (read as {encoding})",
         "An import file in another encoding (Latin-1, UTF-16, a binary file): where it stops "
         "being text in the reading that got further, UTF-8 or GB18030, and why."),
        ("file_unreadable", "detail",
         "cannot read: {detail}",
         "The file cannot be opened."),
        ("file_empty", "",
         "the file is empty",
         "An empty import file."),
        ("file_not_csv", "detail",
         "not CSV: {detail}",
         "The file does not parse as CSV."),
        ("file_no_rows", "",
         "the file has a header but no rows",
         "A header without rows."),
        ("file_old_excel", "",
         "an old Excel .xls file: save it as .xlsx or CSV",
         "The binary Excel format of before 2007, which is not read."),
        ("file_not_workbook", "detail",
         "not a readable Excel .xlsx workbook: {detail}",
         "A file named or shaped like a workbook that does not open as one."),
        ("cell_lost_digits", "",
         "a number longer than 15 digits was stored as a number, and Excel has already dropped "
         "its last digits: format the column as text and type it again",
         "An ID or card number a workbook kept as a number (Excel keeps 15 digits)."),
        ("problems_more", "count",
         "… and {count} more problem(s) after these",
         "A file with more problems than are listed (10,000): the rest are counted, not kept "
         "(a 200 MB file of bad lines is refused in bounded memory)."),
        ("file_changed", "",
         "the file changed while it was being imported; nothing was imported",
         "The file's bytes differ between its check and its import (rows are read again "
         "from the file, not held in memory)."),
        ("column_missing", "headers",
         "missing column (write it as {headers})",
         "A required column is missing."),
        ("column_duplicated", "header first second",
         "columns {first} and {second} are both {header}: keep one",
         "Two header cells name the same column of the kind (the same name twice, or its "
         "Chinese and English names): neither is read in place of the other."),
        ("cell_too_long", "max_length",
         "value is too long",
         "A cell longer than any field."),
        ("cell_control_character", "",
         "holds a control character",
         "A cell with NUL or another control character (a tab or line break inside a quoted "
         "cell is kept)."),
        ("cell_formula", "value",
         "{value} looks like a spreadsheet formula",
         "A cell a spreadsheet would run (CSV injection)."),
        ("cell_empty", "",
         "is empty",
         "A required cell is empty."),
        ("cell_invalid", "",
         "{detail}",
         "A cell that does not parse as its column's type.", "detail"),
        ("cell_not_one_of", "value choices",
         "'{value}' is not one of {choices}",
         "A cell that is none of the words its column accepts (a status, a kind, a result)."),
        ("cell_not_a_date", "value",
         "'{value}' is not a date like 2024-03-01",
         "A date cell that is not a calendar date."),
        ("cell_year_out_of_range", "value min_year max_year",
         "'{value}': the year must be between {min_year} and {max_year}",
         "A date whose year no fund record can have (a typo such as 20024)."),
        ("cell_not_a_year", "value",
         "'{value}' is not a year",
         "A year cell that is not a year between 2000 and 2100."),
        ("cell_not_an_amount", "value detail",
         "'{value}' is not an amount of money: {detail}",
         "An amount cell that does not parse as yuan (`detail` says why, for operators)."),
        ("cell_not_positive", "value",
         "'{value}' is not more than zero",
         "An amount or quantity that must be positive."),
        ("cell_not_a_whole_number", "value",
         "'{value}' is not a whole number",
         "A line number, member id or count that is not a positive whole number."),
        ("cell_not_an_account", "value",
         "'{value}' is not an account number",
         "An account cell with characters other than letters and digits."),
        ("line_repeated", "first_line",
         "also on line {first_line}",
         "The same household or person twice in one file."),
        ("code_taken", "key",
         "code {key} is already used",
         "The code belongs to another region's household (which is not named)."),
        ("import_reused", "what key log_index",
         "{what} {key} was imported before (log entry {log_index}) with other values",
         "A re-import with other content."),
        ("household_out_of_scope", "household",
         "household {household} is outside your region",
         "A member line for a household outside the importer's region."),
        ("member_not_in_household", "household",
         "no member of household {household} has this ID number",
         "A member history line for a person not imported as a member of that household."),
        ("project_stage_not_importable", "stage",
         "only 申报, 入库 or 不予立项 can be imported; approval and later steps are recorded "
         "by an approver",
         "An imported project in a later stage."),
        ("lot_ambiguous", "doc_number lots",
         "document {doc_number} opened lots {lots}: write the lot's id",
         "A movement line names its lot by a document number that opened several lots."),
        ("import_records_no_transfers", "kind kinds",
         "a file of kind {kind} records no transfers to approve (kinds that do: {kinds})",
         "Approving a file's transfers, for a kind whose lines record none."),
        ("file_differs_from_transfer", "transfer_id key field recorded given",
         "transfer #{transfer_id} ({key}) was recorded with {field} {recorded}; the file now "
         "says {given}",
         "Approving a file's transfers, from a file changed since it was imported."),
        ("project_stage_conflict", "project stage field recorded given",
         "project {project}: its {stage} step is recorded with {field} {recorded}, the file "
         "says {given}",
         "A re-imported project whose proposal or stage date or document number differs."),
    ]),
    ("Imports: the report's lines (the file goes in; each line says what it holds that was "
     "not read, or was read with a remark)", [
        ("column_ignored", "header position cells",
         "column {position} ({header}) is not read by this kind: {cells} cell(s) with a "
         "value ignored",
         "A column no column of the kind reads (an extra column, cells past the header's "
         "width); `header` is empty where it has none."),
        ("lines_blank", "count lines",
         "{count} blank line(s) skipped",
         "Lines with no value in any cell, skipped; `lines` lists them."),
        ("id_check_character_accepted", "household",
         "the ID number's check character is wrong; imported as registered",
         "A member's ID number whose only fault is its check character, imported as registered "
         "under [imports] accept_wrong_check_character."),
        ("status_before_registration", "household date registered",
         "{date}: before the household's enrolment on {registered}; recorded as the registry "
         "has it",
         "A status history line dated before the household's enrolment (识别日期)."),
        ("status_repeated", "household status date",
         "{status} on {date} repeats the status in force; recorded as the registry has it",
         "A status history line giving the status the household already had."),
        ("status_not_in_sequence", "household previous status date",
         "{status} on {date} follows {previous}, which it does not follow in a change made "
         "now; recorded as the registry has it",
         "A status history line after 清退 or 注销, or in an order `household status` refuses."),
        ("status_kept_as_recorded", "household log_index",
         "recorded before (log entry {log_index}) with another reason or document number; the "
         "first is kept",
         "A status history line already recorded whose 原因 or 文号 the file writes otherwise."),
        ("split_after_enrolment", "household split_on enrolled",
         "household {household} was enrolled on {enrolled}, before its split on {split_on}; "
         "recorded as the registry has it",
         "A 分户 line into a household whose enrolment the registry dates before the split."),
        ("id_number_form_kept", "household log_index",
         "imported before (log entry {log_index}) with the ID number in its other form; the "
         "number as first registered is kept",
         "A member already imported, written in the file in the other form (15 or 18 "
         "characters) of the same number."),
    ]),
    ("Alerts", [
        ("alert_transition", "alert state requested allowed",
         "alert #{alert} is {state}; it can move to {allowed}, not {requested}",
         "An alert move its state does not allow."),
        ("alert_until_not_allowed", "",
         "--until suppresses a rule for an entity: only with a dismissal for reason "
         "legitimate_exception",
         "A suppression date on anything but a legitimate exception."),
        ("alert_recovery_missing", "state",
         "{state} needs the recovery transfer",
         "Recovering and recovered alerts link their recovery entry."),
        ("alert_recovery_not_allowed", "",
         "a recovery transfer is linked only when recovering",
         "A recovery transfer on another move."),
    ]),
    ("Personal signing keys", [
        ("personal_key_required", "username",
         "{username} holds no valid signing key, or gave none (--key-file FILE, FUNDTRAIL_KEY or "
         "FUNDTRAIL_KEY_DIR): changes in their name must be signed",
         "A change in the name of a person who cannot sign it (docs/signatures.md)."),
        ("personal_key_not_theirs", "username key_id",
         "key {key_id} is not a valid key of {username}",
         "The key file given is someone else's, not yet approved, or revoked."),
        ("personal_key_file", "path detail",
         "cannot read the key file {path}: {detail}",
         "The key file is missing, not a PKCS#8 Ed25519 key, or the passphrase is wrong."),
        ("personal_key_invalid", "detail",
         "not a usable public key: {detail}",
         "The public key offered for enrolment is malformed."),
        ("personal_key_kind", "kind",
         "unknown key kind {kind}",
         "Keys are ed25519 (key files) or webauthn (passkeys)."),
        ("personal_key_self_request", "username",
         "{username} holds no valid key, so an administrator must request their key",
         "A person asks for an extra key of their own only while holding one."),
        ("personal_key_proof_invalid", "key_id username",
         "the proof of possession of {key_id} for {username} does not verify",
         "The new key did not sign the enrolment statement naming this person and key."),
        ("personal_key_exists", "key_id",
         "key {key_id} is already enrolled or requested",
         "The same key (or its revocation) is asked for twice."),
        ("personal_key_request_missing", "request action",
         "no pending {action} request #{request}",
         "The request does not exist or was already decided."),
        ("personal_key_four_eyes", "request user",
         "{user} may not approve key request #{request}: another administrator must",
         "The requester approving their own key request."),
        ("personal_key_unknown", "key_id",
         "no key {key_id} is enrolled",
         "Revoking a key that was never enrolled."),
        ("personal_key_already_revoked", "key_id",
         "key {key_id} is already revoked",
         "A key is revoked once."),
        ("personal_key_genesis", "",
         "the first administrator's key is enrolled only by fundtrail init, right after the "
         "first entry",
         "A key without approval outside initialisation."),
    ]),
    ("Configuration and keys", [
        ("database_timeout_invalid", "value",
         "database URL: timeout={value} is not a number of seconds",
         "The SQLite busy timeout in the URL is not a number."),
        ("pii_key_missing", "",
         "no PII encryption key: set FUNDTRAIL_PII_KEYS",
         "Personal data is needed and no key is configured."),
        ("pii_index_key_missing", "",
         "FUNDTRAIL_PII_INDEX_KEY must be set (at least 32 characters)",
         "The index key for personal data is missing or short."),
        ("pii_key_invalid", "",
         "a PII key is not a valid Fernet key",
         "A configured personal-data key is malformed."),
        ("pii_undecryptable", "",
         "personal data cannot be decrypted with the configured keys",
         "Wrong key, or the stored value was altered."),
        ("refused", "",
         "refused",
         "A refusal not yet given its own code (tests/ledger/test_refusals.py lists where)."),
    ]),
)

BY_CODE: dict[str, Refusal] = {r.code: r for r in CATALOGUE}


# Parameters whose values are enum values (or lists of them): a Chinese rendering shows each as
# its label (ledger.i18n.labels, by the table's name; a tuple tries each table in turn); the
# English one shows the value, which is already an English word. By parameter name, then per
# code where the same name holds values of another kind.
LABELLED: dict[str, str | tuple[str, ...]] = {
    "what": "Thing", "account_kind": "AccountKind", "role": "Role", "action": "Action",
    "decision": "Decision", "level": "RegionLevel", "parent_level": "RegionLevel",
    "to_level": "RegionLevel", "tier": "StandardTier", "event": "MemberEventKind",
    "strata": "SampleStrata", "use": "Use", "change": "AdminRequestKind", "field": "Field",
    "fields": "Field", "problem": "NumberProblem",
}
_STAGES = {name: "ProjectStatus" for name in ("stage", "next_stage", "requested", "allowed")}
_STATUS = {"status": "HouseholdStatus"}
_ALERT = {name: "AlertState" for name in ("state", "requested", "allowed")}
LABELLED_BY_CODE: dict[str, dict[str, str | tuple[str, ...]]] = {
    "key_reused": {"kind": "TransferKind"}, "lot_mismatch": {"kind": "TransferKind"},
    "not_between_levels": {"kind": "TransferKind"}, "use_outside_lot": {"allowed": "Use"},
    "project_stage": {"stage": "ProjectStatus", "allowed": "ProjectStatus"},
    "project_stage_skipped": _STAGES, "project_stage_not_importable": {"stage": "ProjectStatus"},
    "project_stage_conflict": {"stage": "ProjectStatus"},
    "region_level": {"expected": "RegionLevel"},
    "tree_node_missing": {"level": ()},     # a Merkle tree's level, a number
    "status_not_allowed": {"status": "HouseholdStatus", "allowed": "HouseholdStatus"},
    "status_backdated": _STATUS, "household_closed": _STATUS,
    "loan_household_ineligible": _STATUS, "subsidy_household_ineligible": _STATUS,
    "roll_line_ineligible": _STATUS, "status_repeated": _STATUS,
    "status_not_in_sequence": {"status": "HouseholdStatus", "previous": "HouseholdStatus"},
    "household_status_conflict": {"recorded": "HouseholdStatus", "given": "HouseholdStatus"},
    "card_member_by_kind": {"kind": "CardKind"},
    "list_empty": {"kind": "ListKind"}, "register_line_type": {"kind": "RegisterKind"},
    "snapshot_reused": {"kind": ("ListKind", "RegisterKind")},
    "import_detail_missing": {"kind": ("ListKind", "RegisterKind")},
    "payee_identity_mismatch": {"kind": "PayeeKind"},
    "credit_code_department": {"kind": "PayeeKind"},
    "notice_unpublished": {"kind": "NoticeKind"},
    "complaint_step_not_allowed": {"state": "ComplaintState", "step": "ComplaintStep"},
    "complaint_step_date": {"step": "ComplaintStep"},
    "alert_transition": _ALERT, "alert_recovery_missing": {"state": "AlertState"},
    "admin_request_kind": {"kind": "AdminRequestKind"},
    "admin_request_moot": {"kind": "AdminRequestKind"},
    "admin_request_pending": {"kind": "AdminRequestKind"},
    "personal_key_request_missing": {"action": "KeyRequestAction"},
    "personal_key_kind": {"kind": "KeyKind"},
}


def labelled(code: str, name: str) -> tuple[str, ...]:
    """The label tables parameter `name` of refusal `code` is read from (none: shown as is)."""
    by_code = LABELLED_BY_CODE.get(code, {})
    kinds = by_code[name] if name in by_code else LABELLED.get(name, ())
    return (kinds,) if isinstance(kinds, str) else kinds


def _text(name: str, value, kinds: tuple[str, ...] = ()) -> str:
    """A parameter as a person reads it: money (`…_fen`) in 元 with separators, an enum value
    as its label where `kinds` names its tables, lists joined with commas (、 in Chinese), None
    as "none" (无)."""
    from ledger.i18n import DEFAULT_LOCALE, current_locale, gettext, yuan
    from ledger.i18n.labels import source
    if value is None:
        return gettext("无")
    if name.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool):
        return yuan(value)
    if isinstance(value, list):
        comma = "、" if current_locale() == DEFAULT_LOCALE else ", "
        return comma.join(_text(name, v, kinds) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(str(k), v)}" for k, v in value.items())
    for kind in kinds:
        text = source(value, kind)
        if text is not None:
            return gettext(text)
    return str(value)


def template_of(code: str, locale: str | None = None) -> str:
    """The refusal's template in `locale` (the current language when None): the English one
    of this catalogue, or its Chinese from the `refusals` gettext catalog (msgctxt = code)."""
    from ledger.i18n import DEFAULT_LOCALE, current_locale, translations
    entry = BY_CODE[code]
    if (locale or current_locale()) != DEFAULT_LOCALE:
        return entry.template
    return translations(DEFAULT_LOCALE, "refusals").pgettext(code, entry.template)


def render(code: str, params: dict, templates: dict[str, str] | None = None,
           locale: str | None = None) -> str:
    """A refusal as a sentence in the current language (or `locale`): `templates[code]` when
    given, else the catalog's, filled in from `params` (money in 元, lists joined with
    commas, None as "none")."""
    entry = BY_CODE[code]
    if templates is not None and code in templates:
        template = templates[code]
    elif locale is not None:
        from ledger.i18n import use
        with use(locale):
            return render(code, params)
    else:
        template = template_of(code)
    from ledger.i18n import DEFAULT_LOCALE, current_locale
    chinese = templates is None and current_locale() == DEFAULT_LOCALE
    return template.format(**{
        name: _text(name, params.get(name), labelled(code, name) if chinese else ())
        for name in entry.params + entry.optional})


def template_names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def markdown_table() -> str:
    """The catalogue as docs/ledger.md shows it: one table per section, in order."""
    out = []
    for section in dict.fromkeys(r.section for r in CATALOGUE):
        out += [f"**{section}**", "", "| code | parameters | meaning |", "|---|---|---|"]
        for r in CATALOGUE:
            if r.section != section:
                continue
            params = ", ".join([f"`{p}`" for p in r.params]
                               + [f"`{p}`?" for p in r.optional]) or "—"
            out.append(f"| `{r.code}` | {params} | {r.meaning} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
