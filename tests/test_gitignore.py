"""What README's recipes write in a clone stays out of git: the account's config (with its
Auth Token), catalogs, state files, the tap's output, the loaders' settings and folders."""

from __future__ import annotations

import re
import subprocess

from tests.tap_runner import REPO

BLOCK = re.compile(r"^```(?:bash|sh)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# `> file`, `--state file`, `mkdir -p folder`: what a block creates in the clone.
WRITTEN = re.compile(r"(?:>|--state|mkdir -p)\s+([\w./-]+)")


def written_by_readme() -> set[str]:
    readme = (REPO / "README.md").read_text()
    names = {name for block in BLOCK.findall(readme) for name in WRITTEN.findall(block)}
    names |= set(re.findall(r"`(state[\w-]*\.json)`", readme))  # the shards' states, named in prose
    return {name for name in names if not name.startswith(("/", "&"))}


def ignored(path: str) -> bool:
    done = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=REPO,
                          check=False)
    return done.returncode == 0


def test_what_the_readme_recipes_write_is_ignored() -> None:
    names = written_by_readme()
    assert {"config.json", "catalog.json", "tap.out", "state.json", "state.json.new",
            "target.json", "output", "state-2-of-8.json"} <= names, names
    not_ignored = sorted(name for name in names
                         if not ignored(name if "." in name else f"{name}/x.jsonl"))
    assert not_ignored == []


def test_the_project_s_own_json_files_are_not_ignored() -> None:
    for path in ("sample_config.json", "tap_twilio/streams_table.json", "meltano.yml"):
        assert not ignored(path), path
