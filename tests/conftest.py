"""Shared fixtures: a local AWS emulator (moto's server) and a Docker engine,
registry and tiny image build context on loopback (see scripts/docker-up).

Docker-backed fixtures skip when their dependency is missing, unless
BLUEGREEN_REQUIRE_DOCKER=1 (set on CI), in which case they fail.
"""

from __future__ import annotations

import gc
import os
import shutil
import struct
import http.server
import logging
import threading
import urllib.request
from pathlib import Path
from typing import NoReturn

import pytest

from ci_env import IN_CI  # noqa: F401  (read before any fixture edits the environment)

DEFAULT_DOCKER_HOST = "unix:///tmp/bg-docker.sock"
DEFAULT_REGISTRY = "127.0.0.1:5000"
AWS_REGION = "us-east-1"


def docker_unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it when BLUEGREEN_REQUIRE_DOCKER=1."""
    if os.environ.get("BLUEGREEN_REQUIRE_DOCKER") == "1":
        pytest.fail(f"{reason} (BLUEGREEN_REQUIRE_DOCKER=1; try scripts/docker-up)", pytrace=False)
    pytest.skip(reason)


SLOWEST = Path(__file__).resolve().parent / "slowest.txt"


def pytest_configure(config):
    """Under xdist's `load` scheduling, hand out tests two at a time from one queue (--maxschedchunk 2)
    unless told otherwise: xdist's default first hands each worker a quarter of its share in one block,
    which would give the first worker every test that pytest_collection_modifyitems puts first."""
    if getattr(config.option, "dist", "no") == "load" and getattr(config.option, "maxschedchunk", 0) is None:
        config.option.maxschedchunk = 2


def pytest_collection_modifyitems(session, config, items):
    """The slowest tests (tests/slowest.txt) first, slowest first: the longest-first order lets the
    workers finish together. Every other test keeps its collected order after them."""
    rank: dict[str, int] = {}
    for line in SLOWEST.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            rank.setdefault(line.strip(), len(rank))
    root = Path(__file__).resolve().parent

    def key(item) -> int:
        path = Path(str(item.path)).resolve()
        try:
            name = f"{path.relative_to(root).as_posix()}::{item.originalname}"
        except ValueError:  # collected from outside tests/
            return len(rank)
        return rank.get(name, len(rank))

    items.sort(key=key)  # stable: ties keep pytest's order


# Tests that freeze what lives long (see pytest_runtest_teardown), at a spacing that stops growing.
_FREEZE_AFTER = frozenset({1, 3, 10, 30, 100, 300})
_finished = 0


def pytest_sessionstart(session):
    """Python's full (oldest-generation) collection scans every object a worker holds: botocore's
    parsed service models, moto's backends and the modules, hundreds of thousands of objects, for
    about 0.3 s each time, and it ran every few seconds: a fifth of a deploy test file's CPU. A tenth
    as often is still far more often than the garbage cycles these tests make need."""
    gc.set_threshold(700, 10, 100)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a few early tests, once the models and modules every later test uses are loaded, move
    what is alive into the generation the collector never scans (gc.freeze). Only garbage cycles
    among those objects would stay unfreed, and that happens six times per worker at most."""
    global _finished
    result = yield
    _finished += 1
    if _finished in _FREEZE_AFTER:
        gc.collect()
        gc.freeze()
    return result


@pytest.fixture(autouse=True)
def not_in_ci(monkeypatch):
    """bluegreen as a developer runs it: no CI markers, so no local-state-in-CI warning in the
    output the tests assert (tests/test_ci_state.py sets them where that warning is the subject)."""
    from bluegreen.app.context import CI_MARKERS

    for name, _system in CI_MARKERS:
        monkeypatch.delenv(name, raising=False)


# --- AWS emulator -----------------------------------------------------------


@pytest.fixture(scope="session")
def moto_server():
    """moto's HTTP server on a free loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request drowns failures
    from bluegreen.local.emulator import patch_moto

    patch_moto()  # a moto bug, not ours: see its docstring
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


class AwsEmulator:
    """Handle on the (freshly reset) moto server for one test."""

    def __init__(self, endpoint_url: str, region: str, monkeypatch: pytest.MonkeyPatch):
        self.endpoint_url = endpoint_url
        self.region = region
        self._monkeypatch = monkeypatch
        self._clients: dict[str, object] = {}

    def client(self, service_name: str):
        """One client per service for the test (a boto3 client costs milliseconds of CPU to make)."""
        import boto3

        if service_name not in self._clients:
            self._clients[service_name] = boto3.client(
                service_name,
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[service_name]

    def set_ecs_running(self, n: int) -> None:
        """Make ECS services created from now on report `n` running tasks.

        moto reads MOTO_ECS_SERVICE_RUNNING when a service is created; the
        server runs in this process, so the environment variable reaches it.
        (UpdateService with a desiredCount sets runningCount to that count.)
        """
        self._monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", str(n))


@pytest.fixture
def aws(moto_server, monkeypatch, tmp_path) -> AwsEmulator:
    """An emptied moto server, with the environment pointing any AWS SDK at it."""
    urllib.request.urlopen(
        urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=30
    ).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", AWS_REGION)
    # Keep the developer's own AWS set-up out of it.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    return AwsEmulator(moto_server, AWS_REGION, monkeypatch)


@pytest.fixture
def seeder(aws):
    """Our AWS adapter, for seeding only: its calls stay out of any other adapter's log."""
    from bluegreen.adapters.aws.session import Aws

    return Aws(aws.region, endpoint_url=aws.endpoint_url)


@pytest.fixture
def reader(aws):
    """A fresh adapter for discovery: its log holds discovery's calls only."""
    from bluegreen.adapters.aws.session import Aws

    return Aws(aws.region, endpoint_url=aws.endpoint_url)


# --- Docker engine and registry on loopback ---------------------------------


@pytest.fixture(scope="session")
def docker_engine():
    """A docker.DockerClient for DOCKER_HOST (default unix:///tmp/bg-docker.sock)."""
    host = os.environ.get("DOCKER_HOST", DEFAULT_DOCKER_HOST)
    try:
        import docker
    except ImportError as exc:
        docker_unavailable(f"the docker Python SDK is not installed: {exc}")
    try:
        client = docker.DockerClient(base_url=host, timeout=300)
        client.ping()
    except Exception as exc:  # connection refused, missing socket, permissions...
        docker_unavailable(f"no Docker engine answers at {host}: {exc}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def registry() -> str:
    """Address (host:port) of a plain-HTTP image registry on loopback."""
    address = os.environ.get("BLUEGREEN_REGISTRY", DEFAULT_REGISTRY)
    try:
        with urllib.request.urlopen(f"http://{address}/v2/", timeout=5) as response:
            status = response.status
    except Exception as exc:
        docker_unavailable(f"no registry answers at http://{address}/v2/: {exc}")
    if status != 200:
        docker_unavailable(f"http://{address}/v2/ answered {status}, not 200")
    return address


def _find_static_busybox() -> Path | None:
    candidates = [Path("/bin/busybox"), Path("/usr/bin/busybox")]
    if found := shutil.which("busybox"):
        candidates.append(Path(found))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK) and _is_static_elf(path):
            return path.resolve()
    return None


def _is_static_elf(path: Path) -> bool:
    """True for an ELF executable without a program interpreter (PT_INTERP)."""
    with path.open("rb") as f:
        ident = f.read(16)
        if ident[:4] != b"\x7fELF" or ident[4] not in (1, 2) or ident[5] not in (1, 2):
            return False
        is64, endian = ident[4] == 2, "<" if ident[5] == 1 else ">"
        header = f.read(48 if is64 else 36)  # rest of the ELF header
        if is64:
            (phoff,) = struct.unpack_from(endian + "Q", header, 16)
            phentsize, phnum = struct.unpack_from(endian + "HH", header, 38)
        else:
            (phoff,) = struct.unpack_from(endian + "I", header, 12)
            phentsize, phnum = struct.unpack_from(endian + "HH", header, 26)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            (p_type,) = struct.unpack(endian + "I", f.read(4))
            if p_type == 3:  # PT_INTERP: dynamically linked
                return False
    return True


# No EXPOSE: the containers run with network host, and each metadata instruction costs the classic
# builder a throwaway container (about 1 s on vfs) in every build of the suite.
BUSYBOX_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
COPY index.html /www/index.html
ENTRYPOINT ["/bin/busybox", "httpd", "-f", "-h", "/www"]
CMD ["-p", "8080"]
"""


@pytest.fixture
def busybox_context(tmp_path) -> Path:
    """A build context for a ~2 MB image (FROM scratch + static busybox) serving
    /www/index.html with `busybox httpd` on port 8080; override the port with
    the container command, e.g. ["-p", "127.0.0.1:18080"] (run with network host).
    Needs no base image, so building it never touches the internet.
    Build with rm=True (docker-py defaults to rm=False, which leaves the classic
    builder's intermediate containers behind) and a unique tag, and clean up by
    removing that tag rather than the image ID: the daemon is shared and its
    build cache gives identical contexts the same image ID."""
    busybox = _find_static_busybox()
    if busybox is None:
        docker_unavailable("no statically linked busybox found (apt-get install busybox-static)")
    context = tmp_path / "busybox-context"
    context.mkdir()
    shutil.copy2(busybox, context / "busybox")
    (context / "index.html").write_text("<h1>bluegreen busybox</h1>\n")
    (context / "Dockerfile").write_text(BUSYBOX_DOCKERFILE)
    return context


# --- deployments ---------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A clean current directory: specs under deployments/, state under .bluegreen/."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def placer(aws):
    """Plays ECS's part that moto leaves out: running tasks become targets of their target groups."""
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.local.emulator import TaskPlacer, changes

    # Every 100ms, when ECS or ELBv2 changed (the emulator runs in this process): each look is about
    # five requests to the emulator, which shares the worker's core, and the deploy's own health checks
    # poll every 200ms (deploy_helpers.FAST) anyway.
    with TaskPlacer(Aws(aws.region, endpoint_url=aws.endpoint_url), interval=0.1, changes=changes) as running:
        yield running


class _Status500(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        self.send_response(500)
        self.end_headers()
        self.wfile.write(b"boom")

    def log_message(self, *args):
        pass


@pytest.fixture
def failing_server():
    """A health endpoint on 127.0.0.1 that answers 500 to everything, for probe failures."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Status500)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health"
    server.shutdown()


# --- realistic AWS: moto plus a world where things take time (bluegreen.local.world) -----------
# ECS runs tasks, target groups health-check and drain, Auto Scaling instances boot, AWS's
# rejections apply; all on a clock the test controls. See bluegreen/local/DIVERGENCES.md.


class RealisticAws(AwsEmulator):
    """`aws`, with the world: its clock, its image marks and its timings."""

    def __init__(self, base: AwsEmulator, world, clock):
        super().__init__(base.endpoint_url, base.region, base._monkeypatch)
        self.world = world
        self.clock = clock

    def advance(self, seconds: float) -> None:
        """Let `seconds` of virtual time pass (what a product's sleep would do)."""
        self.clock.advance(seconds)

    def mark_image(self, fragment: str, behaviour: str) -> None:
        """Images whose reference contains `fragment` (a digest, a tag) behave so: see world.BEHAVIOURS."""
        self.world.images.mark(fragment, behaviour)

    def set_target_health(self, target_id: str, ok: bool) -> None:
        from bluegreen.local.elb import set_target_health

        set_target_health(self.world, target_id, ok)


@pytest.fixture
def virtual_clock():
    """Time that passes only when slept through: sleep(300) returns at once, 300 s later."""
    from bluegreen.local.clock import VirtualClock

    return VirtualClock()


@pytest.fixture
def realistic_aws(aws, virtual_clock) -> RealisticAws:
    """An emptied moto server whose ECS, ELB and Auto Scaling move on `virtual_clock`."""
    from bluegreen.local import world as worlds

    world = worlds.activate(worlds.World(virtual_clock))
    try:
        yield RealisticAws(aws, world, virtual_clock)
    finally:
        worlds.deactivate(world)


@pytest.fixture
def product_on_virtual_clock(realistic_aws):
    """The CLI, run in-process (`main([...])`), waits and bakes on the world's virtual clock."""
    from bluegreen.local.clock import product_on

    with product_on(realistic_aws.clock):
        yield realistic_aws.clock


@pytest.fixture
def scaled_aws(aws, monkeypatch):
    """The emulator on a clock 100x faster than real time, which CLI subprocesses started with
    this environment follow too (`python -m bluegreen.local.harness ARGS`)."""
    from bluegreen.local import world as worlds
    from bluegreen.local.clock import ScaledClock

    clock = ScaledClock(100)
    for key, value in clock.environment().items():
        monkeypatch.setenv(key, value)
    world = worlds.activate(worlds.World(clock))
    try:
        yield aws
    finally:
        worlds.deactivate(world)


# --- fault injection (tests/test_faults.py; bluegreen/local/faults.py) -----------------


@pytest.fixture
def fault_proxy(aws, monkeypatch):
    """A fault-injecting proxy in front of the emptied moto server, with AWS_ENDPOINT_URL pointing
    any SDK at it. It injects nothing until `fault_proxy.configure([Rule(...)])`; `aws.client()`
    still talks to moto directly, to read what really happened."""
    from bluegreen.local.faults import FaultProxy

    with FaultProxy(aws.endpoint_url, seed=0) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint_url)
        yield proxy
