"""Integration: the library on the tags of a real git repository, as a release job uses it.

git runs with a fixed identity and no user or system config, so the test behaves the same on a
laptop and in the sandbox (where HOME is a private /tmp).
"""
import os
import subprocess
from pathlib import Path

import pytest

from semver_lite import __version__, max_satisfying, next_tag, parse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def git(tmp_path):
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
               HOME=str(tmp_path))

    def run(*args):
        done = subprocess.run(
            ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid",
             "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done.stdout

    run("init", "-q", "-b", "main")
    return run


def commit_and_tag(git, *tags):
    git("commit", "-q", "--allow-empty", "-m", "change")
    for tag in tags:
        git("tag", tag)


def test_next_tag_from_the_tags_of_a_repository(git):
    for tags in (["v0.1.0"], ["v0.2.0"], ["v0.9.0"], ["v0.10.0", "nightly"], ["v1.0.0-rc.1"]):
        commit_and_tag(git, *tags)
    listed = git("tag", "--list").split()
    assert sorted(listed)[-2] == "v0.9.0", "git sorts as text: v0.9.0 after v0.10.0"
    assert next_tag(listed, "patch") == "v0.10.1"
    assert next_tag(listed, "major") == "v1.0.0"


def test_only_tags_reachable_from_the_branch_count(git):
    commit_and_tag(git, "v1.0.0")
    git("checkout", "-q", "-b", "experiment")
    commit_and_tag(git, "v5.0.0")
    git("checkout", "-q", "main")
    merged = git("tag", "--merged", "main").split()
    assert next_tag(merged, "minor") == "v1.1.0"


def test_picking_a_dependency_version_from_tags(git):
    commit_and_tag(git, "v1.2.0", "v1.4.1", "v2.0.0-beta.1", "v2.0.0", "v1.10.0")
    versions = [tag[1:] for tag in git("tag", "--list").split()]
    assert str(max_satisfying(versions, "^1.2.0")) == "1.10.0"
    assert str(max_satisfying(versions, "~1.4")) == "1.4.1"


def test_the_version_file_is_what_the_package_reports():
    text = (ROOT / "VERSION").read_text().strip()
    assert str(parse(text)) == text, f"VERSION must hold one semantic version, has {text!r}"
    assert __version__ == text
