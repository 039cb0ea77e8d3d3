"""Docker build+push of a service's image: a first build, then the same source again (unchanged).

bluegreen (`bluegreen build`, a process, its ECR API calls counted through the proxy) side by side
with what a user would run instead: `docker build -t REGISTRY/REPO:TAG . && docker push REGISTRY/REPO:TAG`
with the docker CLI. Both use the real Docker engine on DOCKER_HOST and push the bytes to the
loopback registry BLUEGREEN_REGISTRY (moto's ECR holds bluegreen's repository and digest record).
The image is tiny (FROM scratch + a static busybox + one page), so the figures are the tools'
overhead, not the engine's work; each tool gets its own unique page, so its first build is new.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench.wire import CREDENTIALS, REPO, LatencyProxy, MotoProcess

DEFAULT_DOCKER_HOST = "unix:///tmp/bg-docker.sock"
DEFAULT_REGISTRY = "127.0.0.1:5000"
DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
COPY index.html /www/index.html
ENTRYPOINT ["/bin/busybox", "httpd", "-f", "-h", "/www"]
"""
SPEC = """\
service: imgbench
image:
  repository: imgbench
  create_repository: true
  build: {{context: {context}}}
platform:
  ecs: {{cluster: prod, service: imgbench, container: imgbench}}
traffic:
  target_group: imgbench
"""
NOTE = ("docker: `bluegreen build` (ECR API on moto through the counting proxy, image bytes to the loopback "
        "registry) vs `docker build && docker push` with the docker CLI, same engine, same registry, each with its "
        "own new page for the first build; unchanged = the same source and tag again.")
Row = tuple[str, str, str, str]


def _busybox() -> Path | None:
    for candidate in ("/bin/busybox", "/usr/bin/busybox", shutil.which("busybox") or ""):
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve()
    return None


def _context(root: Path, name: str, busybox: Path) -> Path:
    context = root / name
    context.mkdir()
    shutil.copy2(busybox, context / "busybox")
    (context / "index.html").write_text(f"<h1>{name} {uuid.uuid4()}</h1>\n")  # new on every bench run
    (context / "Dockerfile").write_text(DOCKERFILE)
    return context


def _timed(argv: list[str], env: dict, cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])}... exit {done.returncode}: {(done.stdout + done.stderr)[-600:]}")
    return seconds


def _unavailable(registry: str) -> str | None:
    if shutil.which("docker") is None:
        return "no docker CLI"
    if _busybox() is None:
        return "no static busybox"
    try:
        urllib.request.urlopen(f"http://{registry}/v2/", timeout=5).close()
    except OSError as exc:
        return f"no registry at {registry} ({exc})"
    return None


def measure() -> list[Row]:
    docker_host = os.environ.get("DOCKER_HOST", DEFAULT_DOCKER_HOST)
    registry = os.environ.get("BLUEGREEN_REGISTRY", DEFAULT_REGISTRY)
    why = _unavailable(registry)
    if why:
        return [("docker build+push first / unchanged", f"not measured: {why}", "n/a", "")]
    root = Path(tempfile.mkdtemp(prefix="bg-bench-docker-"))
    busybox = _busybox()
    assert busybox is not None
    moto = MotoProcess(running=1)
    proxy = LatencyProxy(moto.endpoint_url)
    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": str(REPO), "DOCKER_HOST": docker_host,
           "AWS_ENDPOINT_URL": proxy.endpoint_url, "BLUEGREEN_CACHE_DIR": str(root / "cache")}
    try:
        ours = _context(root, "bluegreen", busybox)
        (root / "deployments").mkdir()
        (root / "deployments" / "imgbench.yaml").write_text(SPEC.format(context=ours))
        build = [sys.executable, "-m", "bluegreen", "build", "imgbench", "--image-tag", "b1", "--registry", registry]
        first = _timed(build, env, root)
        first_calls = len(proxy.order)
        proxy.reset_counts()
        again = _timed(build, env, root)
        again_calls = len(proxy.order)

        theirs = _context(root, "plain", busybox)
        image = f"{registry}/imgbench-plain:p1"
        plain = ["sh", "-c", f"docker build -q -t {image} {theirs} && docker push -q {image}"]
        plain_first = _timed(plain, env, root)
        plain_again = _timed(plain, env, root)
    except (RuntimeError, OSError) as exc:
        return [("docker build+push first / unchanged", f"not measured: {exc}", "n/a", "")]
    finally:
        proxy.stop()
        moto.stop()
        subprocess.run(["docker", "rmi", "-f", f"{registry}/imgbench:b1", f"{registry}/imgbench-plain:p1"],
                       env=env, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    return [
        ("docker build+push: first build vs docker build && push", f"{first:.2f} s ({first_calls} AWS calls)",
         f"{plain_first:.2f} s", f"{first / plain_first:.2f}x"),
        ("docker build+push: unchanged rebuild vs docker build && push", f"{again:.2f} s ({again_calls} AWS calls)",
         f"{plain_again:.2f} s", f"{again / plain_again:.2f}x"),
    ]


if __name__ == "__main__":
    os.environ.update(CREDENTIALS)
    for name, ours, theirs, ratio in measure():
        print(f"{name}: {ours} | {theirs} | {ratio}")
