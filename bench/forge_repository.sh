# Sourced by the forge benchmarks (forge.sh, mirror_fetch.sh), after scripts/infra.
# make_forge_repository DIR COMMITS FILES: a bare repository at DIR on `main`: one commit of FILES
# files (50 to a folder) and .slipway.yml, then COMMITS-1 commits changing one file each, packed
# by `git gc` as a forge packs (delta chains up to git's default depth, 50).
make_forge_repository() {
  local repository="$1" commits="$2" files="$3"
  echo "forge bench: making a repository of $commits commits and $files files" >&2
  git init -q --bare "$repository"
  python3 - "$commits" "$files" <<'EOF_IMPORT' | git -C "$repository" fast-import --quiet
import sys
commits, files = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout.buffer
def data(text):
    raw = text.encode()
    out.write(b"data %d\n" % len(raw) + raw + b"\n")
spec = "kind: library\ntest:\n  suites:\n    unit: 'true'\n"
for n in range(1, commits + 1):
    out.write(b"commit refs/heads/main\n")
    out.write(b"committer Bench <bench@slipway.invalid> %d +0000\n" % (1700000000 + n))
    data(f"commit {n}")
    if n == 1:
        out.write(b"M 100644 inline .slipway.yml\n"); data(spec)
        for f in range(files):
            out.write(b"M 100644 inline src/dir%03d/file%05d.txt\n" % (f // 50, f)); data(f"file {f}\nline two\n")
    else:
        f = n % files
        out.write(b"M 100644 inline src/dir%03d/file%05d.txt\n" % (f // 50, f)); data(f"file {f}\nchanged in {n}\n")
    out.write(b"\n")
EOF_IMPORT
  git -C "$repository" symbolic-ref HEAD refs/heads/main
  git -C "$repository" gc -q
}

# start_bench_forge WORK COMMITS FILES: the repository as WORK/forge/repositories/big.git, a clone
# of it at WORK/pusher to push new commits from, and the forge serving it over loopback HTTPS with
# a token (scripts/infra start_git_https, stopped by stop_infra). Sets forge_port and forge_token.
start_bench_forge() {
  local work="$1"
  make_forge_repository "$work/forge/repositories/big.git" "$2" "$3"
  git clone -q "$work/forge/repositories/big.git" "$work/pusher"
  forge_token="bench-token-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  forge_port=$((20000 + RANDOM % 20000))
  start_git_https "$work/forge" "$forge_port" x-access-token "$forge_token"
}
