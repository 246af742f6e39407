"""Working the way comms teams already work: posts in and out of spreadsheets."""

# Where a spreadsheet is posted: bodies up to CADENCE_MAX_IMPORT_BYTES (app/main.py).
IMPORT_PATHS = frozenset({"/api/v1/posts/import", "/import"})
