"""The `fundtrail` command line (click only): a root with lazily loaded groups, one module per
area, and the public params module the outer layers use."""
