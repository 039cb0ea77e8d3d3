"""Shared test support: in-memory fakes at our own adapter boundary, builders, a fake clock.

Importable from any test as `support` (tests/ is on sys.path through tests/conftest.py).
"""
