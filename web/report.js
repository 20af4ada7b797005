// The test report of a run (GET /api/v1/runs/ID/report, docs/reports.md): a table of suites,
// each failure with its message, details and output, each suite's problems, and the Markdown
// summary the tests wrote — rendered by markdown.js, never injected as HTML.
import { el, formatSeconds } from './format.js';
import { renderMarkdown } from './markdown.js';

const MAX_FAILURES_PER_SUITE = 200;  // as report.html; the rest stay in report.json

export function renderReport(report) {
  const section = el('section', { class: 'report' }, el('h2', {}, 'Test report'));
  if (!report.suites || report.suites.length === 0) {
    section.append(el('p', { class: 'empty' }, 'No suites ran.'));
    return section;
  }
  section.append(suitesTable(report.suites));
  for (const suite of report.suites) {
    const failures = failuresOf(suite);
    if (failures.length === 0 && (!suite.problems || suite.problems.length === 0) && suite.passed) continue;
    section.append(suiteDetails(suite, failures));
  }
  if (report.summary_markdown && report.summary_markdown.trim()) {
    section.append(el('section', { class: 'summary' }, el('h2', {}, 'Summary'), renderMarkdown(report.summary_markdown)));
  }
  return section;
}

function suitesTable(suites) {
  const rows = suites.map((suite) => {
    const tests = suite.tests || {};
    return el('tr', { class: suite.passed ? 'suite-passed' : 'suite-failed', 'data-suite': suite.suite },
      el('td', {}, suite.suite),
      el('td', {}, el('span', { class: `badge badge-${suite.passed ? 'passed' : 'failed'}` }, suite.passed ? 'passed' : 'failed')),
      ['passed', 'failed', 'errored', 'skipped'].map((count) => el('td', { class: 'num' }, tests[count] ?? '')),
      el('td', { class: 'num' }, formatSeconds(suite.duration_ms)),
      el('td', {}, suite.timed_out ? 'timed out' : (suite.exit_code === -1 ? 'did not finish' : `exit ${suite.exit_code}`)));
  });
  return el('table', { class: 'suites' },
    el('thead', {}, el('tr', {}, ['Suite', 'Result', 'Passed', 'Failed', 'Errored', 'Skipped', 'Time', 'Exit']
      .map((title) => el('th', {}, title)))),
    el('tbody', {}, rows));
}

function failuresOf(suite) {
  const cases = suite.tests && suite.tests.cases ? suite.tests.cases : [];
  return cases.filter((testCase) => testCase.outcome === 'failed' || testCase.outcome === 'error');
}

function suiteDetails(suite, failures) {
  const details = el('section', { class: 'suite-details', 'data-suite': suite.suite },
    el('h3', {}, `${suite.suite}: ${failures.length} failure${failures.length === 1 ? '' : 's'}`));
  for (const problem of suite.problems || []) details.append(el('p', { class: 'problem' }, problem));
  for (const testCase of failures.slice(0, MAX_FAILURES_PER_SUITE)) details.append(failure(testCase));
  if (failures.length > MAX_FAILURES_PER_SUITE) {
    details.append(el('p', { class: 'note' }, `${failures.length - MAX_FAILURES_PER_SUITE} more failures are in report.json.`));
  }
  if (failures.length === 0 && suite.output_tail && suite.output_tail.length) {
    details.append(el('h4', {}, 'Last lines of output'), el('pre', { class: 'output' }, suite.output_tail.join('\n')));
  }
  return details;
}

function failure(testCase) {
  const name = [testCase.suite, testCase.classname, testCase.name].filter(Boolean).join(' › ');
  return el('details', { class: 'failure', open: true },
    el('summary', {}, el('span', { class: `badge badge-${testCase.outcome === 'error' ? 'errored' : 'failed'}` }, testCase.outcome),
      ' ', el('strong', {}, name), testCase.message ? el('div', { class: 'message' }, testCase.message) : null),
    block('Details', testCase.details),
    block('Output', testCase.system_out),
    block('Errors', testCase.system_err));
}

function block(title, text) {
  if (!text) return null;
  return el('div', { class: 'block' }, el('h4', {}, title), el('pre', { class: 'output' }, text));
}
