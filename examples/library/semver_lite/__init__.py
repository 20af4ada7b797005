"""semver_lite: Semantic Versioning 2.0.0 versions, ranges and release tags, stdlib only."""
from pathlib import Path

from semver_lite.ranges import satisfies, max_satisfying
from semver_lite.tags import next_tag, release_versions
from semver_lite.version import Version, parse

__all__ = ["Version", "parse", "satisfies", "max_satisfying", "next_tag", "release_versions"]


def _read_version():
    # VERSION at the repository root is the one place the version is written down.
    try:
        return (Path(__file__).resolve().parent.parent / "VERSION").read_text().strip()
    except OSError:
        return "0.0.0+unknown"


__version__ = _read_version()
