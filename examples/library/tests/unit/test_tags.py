"""Unit: the next release tag, from a list of tag names."""
from semver_lite import next_tag, release_versions


def test_the_highest_release_is_bumped_comparing_as_versions():
    tags = ["v0.9.0", "v0.10.0", "v0.2.0"]
    assert next_tag(tags, "patch") == "v0.10.1"
    assert next_tag(tags, "minor") == "v0.11.0"


def test_prereleases_and_other_tags_are_not_releases():
    tags = ["v1.0.0-rc.1", "nightly", "v1.2", "release-3", "v0.4.1", "v0.4.2+meta"]
    assert [str(v) for v in release_versions(tags)] == ["0.4.1"]
    assert next_tag(tags) == "v0.4.2"


def test_without_releases_the_initial_version_is_used():
    assert next_tag([]) == "v0.1.0"
    assert next_tag(["nightly"], initial="1.0.0") == "v1.0.0"
