"""One exit-code table: `bluegreen --help` shows the README's, and bad flags are exit 2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bluegreen.cli.main import main
from bluegreen.errors import ExitCode

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_table() -> dict[int, str]:
    section = README.read_text().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.M)
    return {int(code): meaning for code, meaning in rows}


def help_table(text: str) -> dict[int, str]:
    """The "Exit codes:" section of --help; wrapped meanings are joined back into one line."""
    section = text.split("\nExit codes:\n", 1)[1]
    table: dict[int, str] = {}
    code = None
    for line in section.splitlines():
        if not line.strip():
            break
        row = re.match(r"^  (\d+)\s+(.*)$", line)
        if row:
            code = int(row.group(1))
            table[code] = row.group(2).strip()
        else:
            assert code is not None, line
            table[code] += " " + line.strip()
    return table


def test_help_shows_the_readmes_exit_code_table(capsys):
    assert main(["--help"]) == 0
    shown = help_table(capsys.readouterr().out)

    assert shown == readme_table()


def test_the_table_names_every_exit_code_once():
    assert sorted(readme_table()) == sorted(int(code) for code in ExitCode) == [0, 1, 2, 3, 4, 5, 6]
    assert "Nothing was changed" in readme_table()[int(ExitCode.NOTHING_CHANGED)]


@pytest.mark.parametrize("argv", [
    ["deploy"],  # SERVICE missing
    ["deploy", "web", "--no-such-flag"],
    ["status", "web", "--format", "yaml"],
    ["deploy", "web", "--events", "xml"],
    ["no-such-command"],
], ids=" ".join)
def test_bad_flags_are_invalid_input(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    assert main(argv) == ExitCode.INVALID_INPUT
    err = capsys.readouterr().err
    assert "Error:" in err and "Traceback" not in err
    assert not (tmp_path / ".bluegreen").exists()  # nothing was started
