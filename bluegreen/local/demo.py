"""`bluegreen demo`: a real blue/green deployment on the embedded local AWS, with no account needed.

Starts moto's server on 127.0.0.1 with the realistic world (ECS starts tasks, target groups
health-check and drain, all on a clock 40x faster than real time), seeds an ECS service behind an ALB with blue
live, then runs the same `deploy` a Jenkins job would (every gate, canary 10% -> 50% -> 100%, blue
scaled down once its keep-warm time is over), narrating what ECS and the load balancer do, and shows
`status` and `history`. `--fail` makes an alarm fire during a bake, to show the automatic rollback.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bluegreen.events import Events

DEMO_SPEC = """\
# The demo's service: an ECS target-group swap. The waits are real-world ones; the demo's clock
# runs 40x faster than real time, so a 30 s bake takes under a second.
service: demo
region: us-east-1
image:
  repository: demo
  create_repository: true
  build:
    context: {context}
platform:
  ecs:
    cluster: demo
    services: {{blue: demo-blue, green: demo-green}}
    container: demo
traffic:
  routes:
    - load_balancer: demo-alb
      port: 80
      blue_target_group: demo-blue
      green_target_group: demo-green
  test_listener: {{port: 8080}}
shift:
  mode: canary
  percentages: [10, 50, 100]
health:
  alarms: [demo-5xx]
  deadline: 5m
  interval: 5s
  bake: 30s
rollback:
  keep_blue_warm: 30s
"""

# How much faster than real time the demo runs: the world (ECS starts, health checks, draining)
# and bluegreen's own waits share one scaled clock.
DEMO_SPEED = 40.0
DEREGISTRATION_DELAY = 30


def run(*, fail: bool = False, keep: bool = False, out: Events | None = None) -> int:
    """The whole demo; returns the deploy's exit code (0, or 1 with --fail after blue is restored)."""
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.local.clock import ScaledClock, product_on
    from bluegreen.local.emulator import Emulator
    from bluegreen.local.narrator import Narrator, names
    from bluegreen.local.seed import put_image, seed
    from bluegreen.app.context import RunContext
    from bluegreen.errors import BluegreenError
    from bluegreen.specfiles.loader import load_spec
    from bluegreen.app.deploy import deploy
    from bluegreen.app.session import Session
    from bluegreen.app.views import history, status
    from bluegreen.cli.render.history import history_text
    from bluegreen.cli.render.status import status_text

    say = out or Events()
    workdir = Path(tempfile.mkdtemp(prefix="bluegreen-demo-"))
    previous_cwd = os.getcwd()
    clock = ScaledClock(DEMO_SPEED)
    emulator = Emulator.start(realistic=True, clock=clock)
    saved_env = {k: os.environ.get(k) for k in _ENV}
    os.environ.update({"AWS_ENDPOINT_URL": emulator.endpoint_url, "AWS_ACCESS_KEY_ID": "demo",
                       "AWS_SECRET_ACCESS_KEY": "demo", "AWS_DEFAULT_REGION": "us-east-1"})
    try:
        os.chdir(workdir)
        say.emit("demo.emulator", f"local AWS (moto, where ECS tasks start, health checks pass and targets drain "
                 f"in their own time) on {emulator.endpoint_url}, on a clock {DEMO_SPEED:.0f}x faster than real; "
                 f"working in {workdir}")
        spec_path = _write_spec(workdir)
        loaded = load_spec(spec_path)
        aws = Aws("us-east-1", endpoint_url=emulator.endpoint_url)
        seed(aws, loaded.spec, image_tag="v1", deregistration_delay=DEREGISTRATION_DELAY)
        say.emit("demo.seeded", "seeded: cluster demo, services demo-blue (live, 2 tasks) / demo-green (idle), "
                 "ALB demo-alb :80 (blue 100%) and test listener :8080, alarm demo-5xx, image demo:v1")
        services, groups = names(loaded.spec)
        with product_on(clock), Narrator(aws, say, loaded.spec.ecs.cluster, services, groups):  # type: ignore[union-attr]
            build, tag = _image(aws, loaded, say, put_image)
            session = Session(ctx=RunContext.from_environment(endpoint_url=emulator.endpoint_url), loaded=loaded, events=say)
            trigger = _alarm_when_green_gets_traffic(aws) if fail else None
            try:
                code = deploy(session, image_tag=tag, build=build, registry=os.environ.get("BLUEGREEN_REGISTRY"),
                              wait_finalize=True)
            except BluegreenError as error:
                say.emit("demo.deploy-failed", f"deploy exited {int(error.exit_code)}: {error.message}")
                code = int(error.exit_code)
            if trigger:
                trigger.join(timeout=5)
        print("\n$ bluegreen status demo")
        print(status_text(status(session)), end="")
        print("\n$ bluegreen history demo")
        print(history_text(history(session)), end="")
        return code
    finally:
        os.chdir(previous_cwd)
        emulator.stop()
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")


def _write_spec(workdir: Path) -> Path:
    context = workdir / "image"
    example = Path(__file__).resolve().parents[2] / "examples" / "demo"  # in a source checkout
    shutil.copytree(example, context) if example.is_dir() else context.mkdir()
    if not (context / "Dockerfile").exists():
        (context / "Dockerfile").write_text(_FALLBACK_DOCKERFILE)
        (context / "index.html").write_text("<h1>bluegreen demo</h1>\n")
    busybox = shutil.which("busybox") or "/bin/busybox"
    if Path(busybox).exists():
        shutil.copy(busybox, context / "busybox")
    path = workdir / "deployments" / "demo.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(DEMO_SPEC.format(context=context))
    return path


_FALLBACK_DOCKERFILE = ("FROM scratch\nCOPY busybox /bin/busybox\nCOPY index.html /www/index.html\n"
                        'ENTRYPOINT ["/bin/busybox", "httpd", "-f", "-h", "/www", "-p", "8080"]\n')


def _image(aws: Any, loaded: Any, say: Events, put_image: Any) -> tuple[bool, str]:
    """Build and push when a Docker engine and registry are reachable; otherwise a pre-made image."""
    reason = _docker_unavailable(loaded)
    if reason is None:
        say.emit("demo.image", "Docker engine reachable: the deploy builds and pushes the demo image (v2)")
        return True, "v2"
    digest = put_image(aws, "demo", "v2")
    say.emit("demo.image", f"{reason}: using a pre-made image demo:v2 ({digest[:19]}...) instead of building")
    return False, "v2"


def _docker_unavailable(loaded: Any) -> str | None:
    if not (Path(loaded.spec.image.build.context) / "busybox").exists():  # type: ignore[union-attr]
        return "no static busybox on this machine for the demo image"
    registry = os.environ.get("BLUEGREEN_REGISTRY")
    if not registry:
        return "no BLUEGREEN_REGISTRY set (a loopback registry for the image bytes)"
    from bluegreen.adapters.docker_engine import DockerEngine

    return DockerEngine.unreachable_reason()


def _alarm_when_green_gets_traffic(aws: Any) -> threading.Thread:
    """--fail: the alarm fires once green has production traffic, as a real 5xx spike would."""
    def watch() -> None:
        elb, cloudwatch = aws.client("elbv2"), aws.client("cloudwatch")
        lb = elb.describe_load_balancers(Names=["demo-alb"])["LoadBalancers"][0]["LoadBalancerArn"]
        deadline = time.time() + 60
        while time.time() < deadline:
            listener = next(l for l in elb.describe_listeners(LoadBalancerArn=lb)["Listeners"] if l["Port"] == 80)
            groups = listener["DefaultActions"][0].get("ForwardConfig", {}).get("TargetGroups", [])
            if any("demo-green" in g["TargetGroupArn"] and g.get("Weight", 0) > 0 for g in groups):
                cloudwatch.set_alarm_state(AlarmName="demo-5xx", StateValue="ALARM",
                                           StateReason="demo: 5xx rate above threshold on green")
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, name="demo-alarm", daemon=True)
    thread.start()
    return thread
