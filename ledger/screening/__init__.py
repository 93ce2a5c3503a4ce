"""Checks made at the moment money moves (a blacklisted payee, a dead household head), and the
Finding that alerts share."""
