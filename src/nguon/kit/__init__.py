"""Shared infrastructure: settings, database, errors, logging, metrics, access control."""
