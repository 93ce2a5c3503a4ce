"""An evaluation written as an outsider would write it (issue 18): a province's records as files
in the documented import formats (docs/formats.md), loaded through the documented commands
alone, scanned, and scored rule by rule against what was planted in them.

    python -m scenarios write --seed N --households 2000 --out DIR
    python -m scenarios load DIR --db URL
    python -m scenarios score DIR --db URL [--json]
    python -m scenarios eval --seeds 1,2,3 --households 2000 [--db URL]

Nothing here builds data through the ledger's own functions: `write` knows the file formats and
the domain only (docs/formats.md, DOMAIN.md), `load` speaks to fundtrail through its command
line, `score` reads what `fundtrail alerts scan` printed. docs/evaluation.md says what is
planted and how it is scored.
"""
