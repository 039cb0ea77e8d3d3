"""Test support shared by the unit tests: builders of specs and snapshots."""
