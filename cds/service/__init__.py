"""The CDS Hooks 2.0 HTTP service: discovery, calls with prefetch fallback, JWT trust, feedback, reload."""

from cds.service.app import create_app
from cds.service.settings import Settings, load_settings

__all__ = ["Settings", "create_app", "load_settings"]
