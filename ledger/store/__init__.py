"""Engines, sessions and bulk writes, database guards (append-only triggers), the migrations runner,
and who may do what where."""
