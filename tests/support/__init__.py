"""Shared test support: in-memory fakes at our own adapter boundary, builders, a fake clock.

Imported as `support`, like `deploy_helpers`: pytest's default (prepend) import mode puts tests/,
the directory of the root conftest.py, on sys.path.
"""
