"""Fixtures of the push tests: a Tansu broker and a vendor's gateway."""

from tests.gateway import gateway
from tests.tansu import tansu

__all__ = ["gateway", "tansu"]
