"""The `cds` command line."""
