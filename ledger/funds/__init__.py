"""Money moving: fund lots, accounts, the posting engine, allocations, projects, payments, balances,
tracing, year end, recoveries, fiscal periods."""
