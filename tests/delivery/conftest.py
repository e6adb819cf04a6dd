"""Fixtures of the delivery tests: a Tansu broker, a vendor's gateway, and the two-commune
province."""

from tests.dispatch.test_deliveries import province
from tests.gateway import gateway
from tests.tansu import tansu

__all__ = ["gateway", "province", "tansu"]
