"""Release tags: what the next `vX.Y.Z` of a repository is, from the tags it already has."""
from semver_lite.version import Version, parse


def release_versions(tags, prefix="v"):
    """Versions of the tags that are releases (`vX.Y.Z`, no prerelease), highest first.
    Other tags (`v1.0.0-rc.1`, `nightly`, `v1.2`) are not releases and are skipped."""
    versions = []
    for tag in tags:
        if not tag.startswith(prefix):
            continue
        try:
            version = parse(tag[len(prefix):])
        except ValueError:
            continue
        if not version.prerelease and not version.build:
            versions.append(version)
    return sorted(versions, reverse=True)


def next_tag(tags, part="patch", prefix="v", initial="0.1.0"):
    """The tag to create next: the highest release bumped by `part`, or `initial` when there is
    none. Compares as versions, so v0.10.0 is above v0.9.0 (sorting as text gets that wrong)."""
    releases = release_versions(tags, prefix)
    version = releases[0].bump(part) if releases else parse(initial)
    return f"{prefix}{version}"
