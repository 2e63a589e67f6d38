"""The HTTP side (FastAPI): web chat, staff workbench, dashboard and the public page."""
