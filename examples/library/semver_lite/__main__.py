"""python3 -m semver_lite: the library from a shell.

  bump PART VERSION        print VERSION bumped by PART (major|minor|patch)
  sort                     read versions (one a line) on stdin, print them in precedence order
  max RANGE                read versions on stdin, print the highest in RANGE (exit 1: none)
  next-tag PART            read git tags on stdin, print the next release tag
  --version                print this library's version

Exit status: 0 done, 1 nothing matched, 2 bad input (the message names the line).
"""
import sys

from semver_lite import __version__, max_satisfying, next_tag, parse


def read_lines(stdin):
    return [line.strip() for line in stdin if line.strip()]


def main(argv, stdin=sys.stdin, out=sys.stdout, err=sys.stderr):
    if argv in (["--version"], ["-V"]):
        print(__version__, file=out)
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip(), file=out if argv else err)
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    try:
        if command == "bump" and len(args) == 2:
            print(parse(args[1]).bump(args[0]), file=out)
        elif command == "sort" and not args:
            versions = []
            for number, line in enumerate(read_lines(stdin), start=1):
                try:
                    versions.append(parse(line))
                except ValueError as error:
                    raise ValueError(f"line {number}: {error}") from None
            for version in sorted(versions):
                print(version, file=out)
        elif command == "max" and len(args) == 1:
            best = max_satisfying(read_lines(stdin), args[0])
            if best is None:
                print(f"semver_lite: no version satisfies {args[0]!r}", file=err)
                return 1
            print(best, file=out)
        elif command == "next-tag" and len(args) == 1:
            print(next_tag(read_lines(stdin), args[0]), file=out)
        else:
            print(f"semver_lite: bad usage: {' '.join(argv)}\n\n{__doc__.strip()}", file=err)
            return 2
    except ValueError as error:
        print(f"semver_lite: {error}", file=err)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
