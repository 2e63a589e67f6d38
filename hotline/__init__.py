"""Wiring: settings, database engine, bootstrap and the `hotline` command."""
