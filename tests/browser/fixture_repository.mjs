// The git repository the UI test builds: a library whose .slipway.yml has one passing and one
// failing suite (both writing JUnit XML and Markdown to $SLIPWAY_SUMMARY) and a step that
// prints a 20 MB log, on branch "feature/report"; and, on branch "feature/live", a suite that
// prints a line every 200 ms, for the live log view. Non-main branches run Test only.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const BIG_LOG_LAST_LINE = 'the last line of the big log';
export const LIVE_TICKS = 50;  // 200 ms apart: 10 s of live output, ample to open the page mid-step
export const FAILURE_MESSAGE = 'expected 42 but got 41';

const REPORT_SPEC = `kind: library
test:
  suites:
    passing: { run: sh scripts/passing.sh, junit: reports/passing.xml }
    failing: { run: sh scripts/failing.sh, junit: reports/failing.xml }
    big-log: { run: sh scripts/big-log.sh }
  timeout: 5m
publish:
  tag: { bump: patch }
`;

const LIVE_SPEC = `kind: library
test:
  suites:
    live: { run: sh scripts/live.sh }
  timeout: 5m
publish:
  tag: { bump: patch }
`;

const SCRIPTS = {
  'scripts/passing.sh': `mkdir -p reports
cat > reports/passing.xml <<'XML'
<testsuite name="passing" time="0.25">
  <testcase classname="calc" name="adds" time="0.1"/>
  <testcase classname="calc" name="subtracts" time="0.15"/>
</testsuite>
XML
printf '## Coverage\\n\\n**87%%** of lines, see [the docs](https://example.invalid/docs).\\n\\n' >> "$SLIPWAY_SUMMARY"
printf '| metric | value |\\n| --- | --- |\\n| lines | 87%% |\\n\\n' >> "$SLIPWAY_SUMMARY"
printf 'Raw HTML stays text: <script>window.injected = 1</script>\\n' >> "$SLIPWAY_SUMMARY"
echo "passing: 2 tests"
`,
  'scripts/failing.sh': `mkdir -p reports
cat > reports/failing.xml <<'XML'
<testsuite name="failing" time="0.5">
  <testcase classname="answer" name="is_42" time="0.5">
    <failure message="${FAILURE_MESSAGE}">assert answer() == 42</failure>
    <system-out>computing the answer...</system-out>
  </testcase>
  <testcase classname="answer" name="is_positive" time="0.01"/>
</testsuite>
XML
echo "failing: 1 of 2 tests failed" >&2
exit 1
`,
  'scripts/big-log.sh': `awk 'BEGIN { for (i = 1; i <= 300000; i++) printf "big log line %06d: the quick brown fox jumps over the lazy dog\\n", i }'
printf '\\033[32mgreen\\033[0m and plain\\n'
echo "${BIG_LOG_LAST_LINE}"
`,
  'scripts/live.sh': `i=1
while [ $i -le ${LIVE_TICKS} ]; do echo "tick $i"; i=$((i + 1)); sleep 0.2; done
`,
};

function git(directory, ...args) {
  execFileSync('git', args, { cwd: directory, stdio: 'pipe' });
}

function write(directory, files) {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(directory, name)), { recursive: true });
    fs.writeFileSync(path.join(directory, name), text);
  }
}

// Creates the repository in `directory` and returns its path.
export function createFixtureRepository(directory) {
  fs.mkdirSync(directory, { recursive: true });
  git(directory, 'init', '-q', '-b', 'main');
  git(directory, 'config', 'user.email', 'ui-test@slipway.invalid');
  git(directory, 'config', 'user.name', 'UI test');
  write(directory, { 'README.md': '# webapp\n', '.slipway.yml': REPORT_SPEC, ...SCRIPTS });
  git(directory, 'add', '-A');
  git(directory, 'commit', '-q', '-m', 'Suites for the UI test');
  git(directory, 'branch', 'feature/report');
  git(directory, 'checkout', '-q', '-b', 'feature/live');
  write(directory, { '.slipway.yml': LIVE_SPEC });
  git(directory, 'commit', '-q', '-am', 'Only the live suite');
  git(directory, 'checkout', '-q', 'main');
  return directory;
}
