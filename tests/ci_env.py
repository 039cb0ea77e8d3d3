"""Whether the suite itself runs in CI, read once when the suite is collected.

The tests run bluegreen with the CI markers of the environment removed (conftest's autouse
`not_in_ci`), because bluegreen warns loudly about local state in CI and the tests assert exact
output; tests of that warning set the markers themselves. What the suite does differently on CI
(fail instead of skip when a tool is missing) reads this module instead of the environment.
"""

from __future__ import annotations

import os

IN_CI = os.environ.get("CI") == "true"
