"""Unit: ranges and picking the best version in one."""
import pytest

from semver_lite import max_satisfying, satisfies


@pytest.mark.parametrize("spec, inside, outside", [
    ("^1.2.3", ["1.2.3", "1.9.9"], ["1.2.2", "2.0.0"]),
    ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0", "0.2.2"]),
    ("^0.0.3", ["0.0.3"], ["0.0.4"]),
    ("^1.2", ["1.2.0", "1.99.0"], ["1.1.9", "2.0.0"]),
    ("~1.2.3", ["1.2.3", "1.2.99"], ["1.3.0"]),
    ("~1", ["1.0.0", "1.9.0"], ["2.0.0"]),
    ("1.2", ["1.2.0", "1.2.7"], ["1.3.0"]),
    ("1.2.3", ["1.2.3", "1.2.3+build"], ["1.2.4"]),
    (">=1.0.0 <2.0.0 || 3.x", ["1.5.0", "3.1.0"], ["2.5.0", "4.0.0"]),
    ("*", ["0.0.1", "9.9.9"], []),
])
def test_satisfies(spec, inside, outside):
    for version in inside:
        assert satisfies(version, spec), f"{version} should be in {spec}"
    for version in outside:
        assert not satisfies(version, spec), f"{version} should not be in {spec}"


def test_prereleases_match_only_when_asked_for_on_the_same_release():
    assert not satisfies("1.3.0-beta", "^1.2.0")
    assert satisfies("1.3.0-beta.2", ">=1.3.0-beta.1")
    assert not satisfies("1.4.0-beta.2", ">=1.3.0-beta.1")
    assert satisfies("1.4.0", ">=1.3.0-beta.1")


@pytest.mark.parametrize("spec", ["^", ">=one", "1.2.3.4", "~a"])
def test_a_bad_spec_is_an_error(spec):
    with pytest.raises(ValueError):
        satisfies("1.0.0", spec)


def test_max_satisfying_skips_non_versions_and_prereleases():
    candidates = ["1.2.0", "1.10.0", "1.11.0-rc.1", "2.0.0", "not-a-version"]
    assert str(max_satisfying(candidates, "^1.0.0")) == "1.10.0"
    assert max_satisfying(candidates, ">=3") is None
