"""The `fundtrail` command line (click only): a root with lazily loaded groups, one module per area."""
