"""Version ranges in the npm style most people know: "^1.2.3", "~1.2", ">=1.0.0 <2.0.0",
"1.2.3", "*", and alternatives joined by "||".

Prereleases match only a comparator that names a prerelease of the same major.minor.patch,
so "^1.2.0" never picks 1.3.0-beta by surprise.
"""
import re

from semver_lite.version import Version, parse

_PARTIAL = re.compile(r"^(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?$")


def _parts(text):
    """"1.2" -> (1, 2, None): the major.minor.patch of a full or partial version, None where
    a part is missing or x/*."""
    match = _PARTIAL.match(re.split(r"[-+]", text, maxsplit=1)[0])
    if not match:
        raise ValueError(f"not a version or partial version: {text!r}")
    return tuple(None if p is None or p in "xX*" else int(p) for p in match.groups())


def _bound(text):
    """The lowest version `text` stands for: itself when full, missing parts as 0 otherwise."""
    try:
        return parse(text)
    except ValueError:
        major, minor, patch = _parts(text)
        return Version(major, minor or 0, patch or 0)


def _next_up(text, caret):
    """The exclusive upper bound of ^text (caret) or ~text: the first version that changes what
    the range promises stays the same."""
    major, minor, patch = _parts(text)
    if minor is None or (caret and major > 0):
        return Version(major + 1, 0, 0)
    if not caret or minor > 0 or patch is None:
        return Version(major, minor + 1, 0)
    return Version(0, 0, patch + 1)


def _comparators(term):
    """One space-separated term -> [(operator, Version)], all of which must hold."""
    result = []
    for token in term.split():
        if token in ("*", "x", "X"):
            continue
        if token[0] in "^~":
            result += [(">=", _bound(token[1:])), ("<", _next_up(token[1:], token[0] == "^"))]
            continue
        match = re.match(r"^(>=|<=|>|<|=)?(.+)$", token)
        operator, version = match.group(1) or "=", match.group(2)
        if operator == "=" and None in _parts(version):  # "1.2" means any 1.2.x, like ~1.2
            result += [(">=", _bound(version)), ("<", _next_up(version, caret=False))]
        else:
            result.append((operator, _bound(version)))
    if not result and term.strip() not in ("*", "x", "X"):
        raise ValueError(f"empty range term in {term!r}")
    return result


_CHECKS = {
    "=": lambda v, b: v == b, ">": lambda v, b: v > b, ">=": lambda v, b: v >= b,
    "<": lambda v, b: v < b, "<=": lambda v, b: v <= b,
}


def satisfies(version, spec):
    """Whether `version` (str or Version) is in `spec`. Raises ValueError on a bad spec."""
    version = parse(version) if isinstance(version, str) else version
    for term in spec.split("||"):
        comparators = _comparators(term)
        if not all(_CHECKS[op](version, bound) for op, bound in comparators):
            continue
        if not version.prerelease or any(
                bound.prerelease and bound.core == version.core for _, bound in comparators):
            return True
    return False


def max_satisfying(versions, spec):
    """The highest of `versions` in `spec`, or None. Strings that are not versions are skipped."""
    best = None
    for text in versions:
        try:
            version = parse(text) if isinstance(text, str) else text
        except ValueError:
            continue
        if satisfies(version, spec) and (best is None or version > best):
            best = version
    return best
