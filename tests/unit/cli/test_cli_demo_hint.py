"""`bluegreen demo` without the [local] extra says how to get it, in one line, and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

# Two ways moto can be missing: absent from sys.modules' view, or refused by every finder.
HIDDEN_FROM_SYS_MODULES = "import sys; sys.modules['moto'] = None\n"
REFUSED_BY_A_FINDER = """
import sys
class NoMoto:
    def find_spec(self, name, path=None, target=None):
        if name == "moto" or name.startswith("moto."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NoMoto())
"""
RUN = "from bluegreen.cli.main import run; sys.argv = ['bluegreen', *sys.argv[1:]]; run()\n"


@pytest.mark.parametrize("prelude", [HIDDEN_FROM_SYS_MODULES, REFUSED_BY_A_FINDER], ids=["sys.modules", "finder"])
def test_demo_without_moto_says_how_to_install_it_and_exits_2(prelude, tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    env.pop("BLUEGREEN_DEBUG", None)

    result = subprocess.run([sys.executable, "-c", prelude + "import sys\n" + RUN, "demo"], capture_output=True,
                            text=True, timeout=60, cwd=tmp_path, env=env)

    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == ["bluegreen demo needs the embedded local AWS: "
                                          "pip install 'bluegreen[local]'"]
    assert result.stdout == ""
    assert list(scratch.iterdir()) == []  # the demo did not start: no working directory was made


def test_the_same_prelude_really_makes_moto_unimportable():
    """The test above proves something only if its prelude does what it says."""
    for prelude in (HIDDEN_FROM_SYS_MODULES, REFUSED_BY_A_FINDER):
        code = prelude + "import sys\ntry:\n    import moto\nexcept ModuleNotFoundError:\n    sys.exit(7)\n"
        assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 7
    assert subprocess.run([sys.executable, "-c", "import moto"], timeout=60).returncode == 0  # installed here
