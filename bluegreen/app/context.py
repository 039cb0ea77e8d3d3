"""The run context: everything about *this* run that is read from the outside world, read once.

The CLI builds one `RunContext` from its flags and the environment; everything below receives it
and never looks at the environment again. It holds the effective region (a `--region` override
wins over every spec's region, for reads and writes alike), the AWS connection settings, who is
running (user, host, pid, CI build, git commit), the loopback registry override, and the clocks.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping

from bluegreen.domain.identity import Identity

if TYPE_CHECKING:
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.domain.spec import Spec


def user_name(env: Mapping[str, str], getuid: Callable[[], int] | None = None) -> str:
    """The login name; CI containers often run a uid with no passwd entry and no USER variable."""
    for key in ("BUILD_USER_ID", "USER", "LOGNAME", "USERNAME"):
        if env.get(key):
            return env[key]
    try:
        import pwd

        return pwd.getpwuid((getuid or os.getuid)()).pw_name
    except (KeyError, ImportError, AttributeError, OSError):
        return f"uid{(getuid or os.getuid)()}" if hasattr(os, "getuid") else "unknown"


def ci_build(env: Mapping[str, str]) -> str | None:
    """A link to (or name of) the CI build this process runs in, if any."""
    if env.get("BUILD_URL"):  # Jenkins
        return env["BUILD_URL"]
    if env.get("GITHUB_RUN_ID"):
        server, repo = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY")
        if server and repo:
            return f"{server}/{repo}/actions/runs/{env['GITHUB_RUN_ID']}"
        return f"github run {env['GITHUB_RUN_ID']}"
    if env.get("CI_JOB_URL"):  # GitLab
        return env["CI_JOB_URL"]
    if env.get("CI_JOB_ID"):
        return f"gitlab job {env['CI_JOB_ID']}"
    if env.get("BUILD_TAG"):  # Jenkins without a URL
        return env["BUILD_TAG"]
    return None


# Each CI system's own marker variable, checked in order; `CI` (set by most of them) and Jenkins'
# `BUILD_ID` come last, as the generic signs.
CI_MARKERS: tuple[tuple[str, str], ...] = (
    ("JENKINS_URL", "Jenkins"), ("GITHUB_ACTIONS", "GitHub Actions"), ("GITLAB_CI", "GitLab CI"),
    ("BUILDKITE", "Buildkite"), ("CIRCLECI", "CircleCI"), ("TF_BUILD", "Azure Pipelines"),
    ("CODEBUILD_BUILD_ID", "AWS CodeBuild"), ("TEAMCITY_VERSION", "TeamCity"), ("BITBUCKET_BUILD_NUMBER", "Bitbucket"),
    ("BUILD_ID", "a CI build (BUILD_ID is set)"), ("CI", "CI (CI is set)"),
)
_FALSE = ("", "0", "false", "no", "off")


def ci_system(env: Mapping[str, str]) -> str | None:
    """The CI system this process runs in (`Jenkins`, `GitHub Actions`, ...), or None outside CI."""
    for key, name in CI_MARKERS:
        if env.get(key, "").strip().lower() not in _FALSE:
            return name
    return None


def identity_from(env: Mapping[str, str]) -> Identity:
    return Identity(user=user_name(env), host=socket.gethostname() or "localhost", pid=os.getpid(),
                    ci_build=ci_build(env), git_commit=env.get("GIT_COMMIT") or env.get("GITHUB_SHA") or None)


@dataclass
class RunContext:
    """One run's settings and identity, and the AWS sessions made from them (one per region)."""

    endpoint_url: str | None = None
    region: str | None = None  # --region: overrides every spec's region
    profile: str | None = None
    role_arn: str | None = None
    registry: str | None = None  # loopback registry for image bytes (local use)
    identity: Identity = field(default_factory=lambda: identity_from(os.environ))
    ci: str | None = None  # the CI system running this (`ci_system`), None outside CI
    wall_clock: Callable[[], float] = time.time
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    # Set when this run starts a step that changes AWS: from then on an error can no longer say
    # "nothing was changed" (exit 6) and becomes "may have changed, not verified" (exit 3).
    aws_changed: bool = False
    _aws: dict[str, "Aws"] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None, **settings: object) -> "RunContext":
        env = os.environ if env is None else env
        return cls(identity=identity_from(env), ci=ci_system(env), **settings)  # type: ignore[arg-type]

    def region_of(self, spec: "Spec") -> str:
        """The region a spec's resources are read and changed in."""
        return self.region or spec.region

    def aws(self, region: str) -> "Aws":
        """The AWS session for `region` (already the effective one: see `region_of`)."""
        from bluegreen.adapters.aws.session import Aws

        if region not in self._aws:
            shared = next(iter(self._aws.values()), None)
            self._aws[region] = (shared.for_region(region) if shared else
                                 Aws(region, endpoint_url=self.endpoint_url, profile=self.profile, role_arn=self.role_arn))
        return self._aws[region]

    def aws_for(self, spec: "Spec") -> "Aws":
        return self.aws(self.region_of(spec))
