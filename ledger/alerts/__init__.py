"""Misuse alerts (DOMAIN.md §4): the rule catalogue, findings with their evidence, a lifecycle
derived from append-only events, and measured detection quality (docs/alerts.md)."""
