"""fabfuel's ecs-deploy, installed for the benchmark only, into its own venv under /tmp."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

VENV = Path("/tmp/bg-bench-ecs-deploy")
VERSION = "1.17.0"


def ensure_ecs_deploy() -> Path | None:
    """The `ecs` command, installing it into VENV first if it is missing (and saying so)."""
    ecs = VENV / "bin" / "ecs"
    if ecs.exists():
        return ecs
    print(f"bench: installing ecs-deploy {VERSION} into {VENV} (benchmark only)", file=sys.stderr, flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", f"ecs-deploy=={VERSION}"], check=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"bench: ecs-deploy could not be installed ({exc}); its column says n/a", file=sys.stderr)
        return None
    return ecs if ecs.exists() else None
