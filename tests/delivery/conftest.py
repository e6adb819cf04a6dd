"""Fixtures of the delivery tests: a Tansu broker, and the two-commune province."""

from tests.dispatch.test_deliveries import province
from tests.tansu import tansu

__all__ = ["province", "tansu"]
