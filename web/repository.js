// A repository's page (#/repositories/NAME): where it comes from, its main branch, how its
// last run went, and its history of runs (paged like the runs list, filtered to it).
import { apiGet, query } from './api.js';
import { el, statusBadge } from './format.js';
import { hasActiveRuns, runsTable } from './runs.js';

const REFRESH_MS = 3000;

export async function renderRepository(main, { params, search }) {
  const name = params.name;
  const before = search.get('before') || '';
  let timer = null;
  let stopped = false;

  const load = async () => {
    const [repository, history] = await Promise.all([
      apiGet(`/repositories/${encodeURIComponent(name)}`),
      apiGet(`/runs${query({ repository: name, limit: 50, before })}`),
    ]);
    if (stopped) return;
    const last = repository.last_run;
    main.replaceChildren(
      el('h1', {}, repository.name),
      el('dl', { class: 'facts' },
        el('div', {}, el('dt', {}, 'URL'), el('dd', { class: 'mono' }, repository.url)),
        el('div', {}, el('dt', {}, 'Main branch'), el('dd', { 'data-fact': 'main-branch' }, repository.main_branch)),
        el('div', {}, el('dt', {}, 'Last run'), el('dd', { 'data-fact': 'last-run' },
          last ? [el('a', { href: `#/runs/${last.id}` }, `#${last.id}`), ' ', statusBadge(last.status)] : 'none yet'))),
      el('h2', {}, 'History'),
      runsTable(history.runs),
      el('nav', { class: 'pager' },
        before ? el('a', { href: `#/repositories/${encodeURIComponent(name)}` }, '« Newest') : null,
        history.next_before ? el('a', { class: 'older', href: `#/repositories/${encodeURIComponent(name)}${query({ before: history.next_before })}` }, 'Older »') : null));
    if (hasActiveRuns(history.runs)) timer = setTimeout(() => load().catch(() => {}), REFRESH_MS);
  };
  await load();
  return () => { stopped = true; clearTimeout(timer); };
}
