"""A real deploy (in-process, on the realistic emulator's virtual clock) with its standard output on a
pseudo-terminal draws the live panel. (Piped, the same deploy prints the plain lines every deploy test
reads through capsys; tests/unit/cli/test_progress_panel.py says they are the same with the new options.)

The panel's details (bars, ETA, redraws) are specified in tests/unit/cli/test_progress_panel.py; here
the wiring: the CLI picks the panel on a terminal by itself, hands it the plan and every event, and
leaves the last frame on the screen when the command ends.
"""

from __future__ import annotations

import re
import sys

from bluegreen.cli.main import main
from deploy_helpers import REALISTIC, seeded, write_spec
from support.terminal import pseudo_terminal


def test_a_deploy_on_a_terminal_ends_with_the_panel_showing_all_traffic_on_green(
        aws, workdir, product_on_virtual_clock, monkeypatch):
    path = write_spec(workdir, "web", timings=REALISTIC)
    seeded(aws.endpoint_url, path)

    with pseudo_terminal(monkeypatch) as terminal:
        monkeypatch.setattr(sys, "stdout", terminal.tty)
        assert main(["deploy", str(path), "--image-tag", "v2"]) == 0
        screen = terminal.screen()
    shown = "\n".join(screen)

    assert sum("bluegreen · web · blue → green" in line for line in screen) == 1, shown
    assert re.search(r"web-green\s+█{24} 100%", shown), shown
    assert "succeeded" in shown and "steps done" in shown
    assert not re.search(r"^\d\d:\d\d \[", shown, re.M), "plain lines printed under the panel"
