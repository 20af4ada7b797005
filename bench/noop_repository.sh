# Sourced by the benchmarks that run no-op jobs (peers.sh, memory.sh, startup.sh).
# make_noop_repository DIR: a git repository of one commit on `main` whose .slipway.yml has one
# suite, `unit`, running `true` — the cheapest run there is, so what is measured is Slipway's own
# cost per run.
make_noop_repository() {
  mkdir -p "$1"
  printf 'kind: library\ntest:\n  suites:\n    unit: { run: "true" }\n' > "$1/.slipway.yml"
  git -C "$1" init -q --initial-branch=main
  git -C "$1" add -A
  git -C "$1" -c user.name=bench -c user.email=bench@slipway.invalid commit -qm noop
}
