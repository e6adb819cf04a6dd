"""Fixtures of the push tests: a Tansu broker."""

from tests.tansu import tansu

__all__ = ["tansu"]
