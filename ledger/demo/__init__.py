"""A deterministic synthetic province with planted misuse, for trying fundtrail and measuring the alerts."""
