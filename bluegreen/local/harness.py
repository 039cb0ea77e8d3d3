"""`python -m bluegreen.local.harness ARGS...`: the bluegreen CLI on the test harness's clock.

A test that runs the CLI in a subprocess against the in-process realistic emulator sets
`BLUEGREEN_EMULATOR_CLOCK_ORIGIN` / `BLUEGREEN_EMULATOR_CLOCK_SCALE` (`ScaledClock.environment()`)
and starts this instead of `bluegreen`: the CLI then waits, bakes and times out on the same
scaled clock the emulator runs on. Without those variables it is the plain CLI.
"""

from __future__ import annotations

import sys

from bluegreen.local.clock import from_environment, product_on


def main(argv: list[str]) -> None:
    from bluegreen.cli.main import run

    sys.argv = ["bluegreen", *argv]
    clock = from_environment()
    if clock is None:
        run()
        return
    with product_on(clock):
        run()


if __name__ == "__main__":
    main(sys.argv[1:])
