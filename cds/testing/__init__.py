"""Tools for testing CDS Hooks services, independent of how this service builds its responses."""
