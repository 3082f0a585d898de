// results.js - the results page: the job named in the URL's hash (pages the
// panel cannot be shown on open this instead), or this session's recent jobs.
const api = globalThis.browser ?? globalThis.chrome;
const box = document.getElementById('jobs');
const shown = new Map(); // job id -> element

function show(job) {
  document.getElementById('empty')?.remove();
  let holder = shown.get(job.id);
  if (!holder) {
    holder = document.createElement('div');
    holder.className = 'job';
    shown.set(job.id, holder);
    box.prepend(holder);
  }
  globalThis.sottoPanel.render(holder, job);
}

const wanted = location.hash.slice(1);
api.runtime.onMessage.addListener((m) => {
  if (m?.type === 'sotto-job' && (!wanted || m.job.id === wanted)) show(m.job);
});
const recent = await api.runtime.sendMessage({ type: 'recent-jobs' });
for (const job of [...(recent ?? [])].reverse()) if (!wanted || job.id === wanted) show(job);
if (!recent?.length && !wanted) {
  const p = document.createElement('p');
  p.id = 'empty';
  p.textContent = 'Nothing yet: select text on a page and right-click to summarize or classify it.';
  box.append(p);
}
