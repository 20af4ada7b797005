"""Version: one SemVer 2.0.0 version (https://semver.org), parsed strictly."""
import re
from dataclasses import dataclass
from functools import total_ordering

# The regular expression suggested by semver.org, without the named groups' verbosity.
_PATTERN = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


@total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """Ordering follows SemVer precedence, which ignores build metadata; so does equality
    (1.0.0+a == 1.0.0+b), which keeps ==, < and sorting consistent. Compare `str()` to tell
    builds apart."""

    major: int
    minor: int
    patch: int
    prerelease: tuple = ()  # identifiers: ints for numeric ones, str otherwise
    build: tuple = ()

    def _key(self):
        # A release sorts after its prereleases; numeric identifiers sort before alphanumeric.
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, not self.prerelease, pre)

    def __eq__(self, other):
        return isinstance(other, Version) and self._key() == other._key()

    def __lt__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __hash__(self):
        return hash(self._key())

    def __str__(self):
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(map(str, self.prerelease))
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    @property
    def core(self):
        return (self.major, self.minor, self.patch)

    def bump(self, part):
        """The next version for a `part` ("major", "minor", "patch") change.

        From a prerelease, a bump that lands on its own release finishes it instead:
        1.2.0-rc.1 bumped "minor" is 1.2.0, as npm does.
        """
        if part == "major":
            finishing = self.prerelease and self.minor == 0 and self.patch == 0
            return Version(self.major if finishing else self.major + 1, 0, 0)
        if part == "minor":
            finishing = self.prerelease and self.patch == 0
            return Version(self.major, self.minor if finishing else self.minor + 1, 0)
        if part == "patch":
            return Version(self.major, self.minor, self.patch if self.prerelease else self.patch + 1)
        raise ValueError(f"unknown part {part!r}: use major, minor or patch")


def parse(text):
    """"1.2.3-rc.1+build.5" -> Version. Raises ValueError naming the bad input."""
    match = _PATTERN.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"not a semantic version: {text!r}")
    major, minor, patch, pre, build = match.groups()
    prerelease = tuple(int(p) if p.isdigit() else p for p in pre.split(".")) if pre else ()
    return Version(int(major), int(minor), int(patch), prerelease,
                   tuple(build.split(".")) if build else ())
