"""Fixtures of the command tests: a vendor's gateway, and console sign-in."""

from tests.console.conftest import sign_in_as
from tests.gateway import gateway

__all__ = ["gateway", "sign_in_as"]
