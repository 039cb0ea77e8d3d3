"""Shared test support, imported as `support` (like `deploy_helpers`: pytest's prepend import mode puts
tests/, the directory of the root conftest.py, on sys.path).

    builders   specs and live snapshots for pure planner tests
    runs       the web spec, its plan and records for runner and use-case tests
    world      an in-memory AWS at our own adapter boundary (actions + observer), recording calls
    clock      a fake clock whose sleep advances time
    commands   the use cases driven as a CLI user would
    terminal   a pseudo-terminal read back through a terminal emulator (pyte)
"""
