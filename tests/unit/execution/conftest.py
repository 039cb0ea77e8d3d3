"""Fixtures the executor's specifications share: a recording rig and the web spec."""

from __future__ import annotations

import pytest

from support.runs import Rig, web_spec


@pytest.fixture
def rig() -> Rig:
    return Rig()


@pytest.fixture
def spec(tmp_path):
    return web_spec(tmp_path).spec
