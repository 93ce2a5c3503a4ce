"""Registers from outside the ledger the checks match against: external lists (deaths, payroll,
vehicles, businesses, officials, blacklist) and payee registers."""
