"""`bluegreen init`: from what runs (seeded on the emulator) to a spec that validates and plans with no changes.

Each strategy's topology is seeded from the example spec (`bluegreen.local.seed`), the example spec is
removed, and `init` must find it again from one name: the generated spec loads, and
`plan --detailed-exitcode` on the live image exits 0 (nothing to change).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bluegreen.adapters.aws.session import Aws
from bluegreen.cli.main import main
from bluegreen.local.seed import seed
from bluegreen.specfiles.loader import load_spec

from deploy_helpers import write_spec

EXIT_OK, EXIT_INVALID, EXIT_UNREACHABLE = 0, 2, 6


def seed_example(aws, workdir: Path, name: str, **kwargs):
    """Seed the example `name` live (blue serving), then remove its spec: init must find everything itself."""
    path = write_spec(workdir, name)
    spec = load_spec(path).spec
    result = seed(Aws(spec.region, endpoint_url=aws.endpoint_url), spec, live_color=kwargs.pop("live_color", "blue"),
                  image_tag="v1", deregistration_delay=1, **kwargs)
    path.unlink()
    return spec, result


def generated(workdir: Path, name: str) -> dict:
    return yaml.safe_load((workdir / "deployments" / f"{name}.yaml").read_text())


def plans_clean(path: Path, capsys) -> None:
    capsys.readouterr()
    code = main(["plan", str(path), "--detailed-exitcode"])
    out = capsys.readouterr()
    assert code == EXIT_OK, out.out + out.err
    assert "0 with changes, 0 with errors" in out.out


def test_init_from_one_ecs_service_finds_the_target_group_swap_and_plans_clean(aws, workdir, capsys):
    seed_example(aws, workdir, "web")

    code = main(["init", "--cluster", "prod", "--service", "web-blue"])

    out = capsys.readouterr()
    assert code == EXIT_OK, out.err
    assert "wrote deployments/web.yaml (web, strategy ecs-target-group-swap" in out.out
    spec = generated(workdir, "web")
    assert spec["platform"]["ecs"]["services"] == {"blue": "web-blue", "green": "web-green"}
    assert spec["traffic"]["routes"] == [{"load_balancer": "web-alb", "port": 80, "blue_target_group": "web-blue",
                                          "green_target_group": "web-green"}]
    assert spec["traffic"]["test_listener"] == {"port": 8080}
    assert main(["validate", "deployments/web.yaml"]) == EXIT_OK
    plans_clean(workdir / "deployments" / "web.yaml", capsys)


def test_peek(aws, workdir, capsys):
    seed_example(aws, workdir, "web")
    main(["init", "--cluster", "prod", "--service", "web-blue", "--out", "-"])
    print(capsys.readouterr().out, file=open("/tmp/peek.yaml", "w"))
