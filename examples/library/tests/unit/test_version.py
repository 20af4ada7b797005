"""Unit: parsing, printing, precedence and bumping of single versions."""
import pytest

from semver_lite import Version, parse


def test_parse_and_print_round_trip():
    version = parse("1.2.3-rc.1+build.5")
    assert version == Version(1, 2, 3, ("rc", 1), ("build", "5"))
    assert str(version) == "1.2.3-rc.1+build.5"


@pytest.mark.parametrize("text", [
    "1", "1.2", "01.2.3", "1.02.3", "1.2.3-", "1.2.3-01", "1.2.3+", "1.2.3-a..b", "v1.2.3", "",
    "1.2.3 4",
])
def test_parse_rejects_what_semver_does_not_allow(text):
    with pytest.raises(ValueError, match="not a semantic version"):
        parse(text)


def test_precedence_follows_the_example_of_semver_org():
    # semver.org §11: 1.0.0-alpha < 1.0.0-alpha.1 < ... < 1.0.0
    chain = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
             "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]
    versions = [parse(text) for text in chain]
    assert all(a < b for a, b in zip(versions, versions[1:]))
    assert sorted(reversed(versions)) == versions


def test_numbers_compare_as_numbers():
    assert parse("1.10.0") > parse("1.9.0")
    assert parse("1.0.0-rc.10") > parse("1.0.0-rc.9")


def test_build_metadata_does_not_change_precedence():
    assert parse("1.0.0+a") == parse("1.0.0+b")
    assert len({parse("1.0.0+a"), parse("1.0.0+b")}) == 1


@pytest.mark.parametrize("start, part, expected", [
    ("1.2.3", "patch", "1.2.4"), ("1.2.3", "minor", "1.3.0"), ("1.2.3", "major", "2.0.0"),
    ("1.2.3-rc.1", "patch", "1.2.3"), ("1.2.0-rc.1", "minor", "1.2.0"),
    ("1.2.3-rc.1", "minor", "1.3.0"), ("2.0.0-alpha", "major", "2.0.0"),
    ("1.2.3+build.7", "patch", "1.2.4"),
])
def test_bump(start, part, expected):
    assert str(parse(start).bump(part)) == expected


def test_bump_rejects_an_unknown_part():
    with pytest.raises(ValueError, match="unknown part 'micro'"):
        parse("1.0.0").bump("micro")
