"""Household payment rolls: create, publish, hold, approve, send to the bank, settle the
bank's results."""
