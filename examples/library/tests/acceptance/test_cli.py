"""Acceptance: `python3 -m semver_lite` as a user or a script calls it."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli(*args, stdin=""):
    return subprocess.run([sys.executable, "-B", "-m", "semver_lite", *args], cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=30)


def test_bump():
    done = cli("bump", "minor", "1.4.7")
    assert (done.returncode, done.stdout) == (0, "1.5.0\n")


def test_sort_orders_by_precedence_not_text():
    done = cli("sort", stdin="1.10.0\n1.2.0\n\n1.2.0-rc.1\n1.9.0\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1.2.0-rc.1", "1.2.0", "1.9.0", "1.10.0"]


def test_sort_names_the_bad_line():
    done = cli("sort", stdin="1.0.0\nbanana\n")
    assert done.returncode == 2
    assert "line 2: not a semantic version: 'banana'" in done.stderr


def test_max_in_a_range_and_when_nothing_matches():
    versions = "1.2.0\n1.10.0\n2.0.0\n"
    assert cli("max", "^1.0.0", stdin=versions).stdout == "1.10.0\n"
    done = cli("max", "^3", stdin=versions)
    assert done.returncode == 1
    assert "no version satisfies '^3'" in done.stderr


def test_next_tag_reads_git_tag_output():
    done = cli("next-tag", "patch", stdin="v0.9.0\nv0.10.0\nnightly\n")
    assert (done.returncode, done.stdout) == (0, "v0.10.1\n")


def test_version_and_usage():
    assert cli("--version").stdout.strip() == (ROOT / "VERSION").read_text().strip()
    done = cli("frobnicate")
    assert done.returncode == 2
    assert "bad usage" in done.stderr and "bump PART VERSION" in done.stderr
