"""The tool's own image (Dockerfile) can run `bluegreen demo`: it installs the [local] extra.

The engine on this machine builds only FROM scratch images (no pulls), so the python:3.11-slim image
cannot be built here; these tests read the Dockerfile and the installed packages' metadata instead.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bluegreen.cli.demo import LOCAL_EXTRA_MODULES

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = (REPO / "Dockerfile").read_text()


def stages(text: str) -> list[str]:
    return re.split(r"^FROM ", text, flags=re.M)[1:]


def test_the_image_builds_wheels_for_and_installs_the_local_extra():
    build, final = stages(DOCKERFILE)

    assert re.search(r"^RUN pip wheel .*--wheel-dir /wheels \"\.\[local\]\"$", build, re.M)
    install = re.search(r"^RUN pip install (.*)$", final, re.M)
    assert install is not None
    assert "--no-index" in install[1] and "--find-links /wheels" in install[1]  # only what was built, no index
    assert '"bluegreen[local]"' in install[1]


def test_the_local_extra_brings_every_module_the_demo_needs():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    local = {re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0].lower().replace("-", "_"): r.replace(" ", "")
             for r in extras["local"]}
    assert local["moto"].endswith("==5.2.1")  # pinned: see pyproject.toml
    assert set(LOCAL_EXTRA_MODULES) <= set(local)  # moto's server needs flask and flask_cors, listed directly
    assert "bluegreen[local]" in extras["test"]  # the tests run the same emulator
