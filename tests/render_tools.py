"""GitHub's renderers, run locally: cmark-gfm (Debian's package) turns a plan's Markdown into the HTML
GitHub would make of it, and mermaid's own parser (npm: tests/render-tools) reads its timeline.

cmark-gfm runs with GitHub's extensions, `--unsafe` (GitHub keeps the HTML we write: details, summary,
code with a title) and `--github-pre-lang` (a fenced block becomes `<pre lang="mermaid">`, which is what
GitHub turns into a chart). Mermaid and jsdom are installed with `npm ci` once per lock file under the
cache dir (`lint_tools.npm_tools`). A tool that is missing fails the test when CI=true, else skips it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from lint_tools import npm_tools, unavailable

RENDER_TOOLS = Path(__file__).resolve().parent / "render-tools"
GFM_EXTENSIONS = ("table", "strikethrough", "autolink", "tagfilter", "tasklist")


def gfm_html(markdown: str) -> str:
    """The HTML GitHub's own CommonMark implementation makes of `markdown`."""
    cmark = shutil.which("cmark-gfm")
    if cmark is None:
        unavailable("cmark-gfm is not installed (Debian: apt-get install cmark-gfm)")
    command = [cmark, "--unsafe", "--github-pre-lang", *(a for e in GFM_EXTENSIONS for a in ("-e", e))]
    result = subprocess.run(command, input=markdown, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def mermaid_parse(sources: list[str], workdir: Path) -> list[dict]:
    """Each mermaid source as mermaid's parser reads it: {type, title, tasks: [{section, name, start, end,
    active, done}]} (times in ms), or {error}. One node process for all: mermaid takes seconds to load."""
    modules = npm_tools(RENDER_TOOLS)
    script = modules.parent / "gantt-tasks.mjs"
    shutil.copy2(RENDER_TOOLS / "gantt-tasks.mjs", script)  # beside node_modules, so imports resolve
    files = []
    for i, source in enumerate(sources):
        files.append(workdir / f"chart-{i}.mmd")
        files[-1].write_text(source, encoding="utf-8")
    result = subprocess.run(["node", str(script), *map(str, files)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
