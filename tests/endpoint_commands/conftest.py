"""Fixtures of the command tests: a vendor's gateway."""

from tests.gateway import gateway

__all__ = ["gateway"]
