// results.js - the results page: the job named in the URL's hash (pages the
// panel cannot be shown on open this instead), or this session's recent jobs,
// kept up to date by the background's notifications (panel.js applies them).
import { contentPort, onNotify, request } from './platform.js';

contentPort(); // panel.js's buttons talk to the background through it
const box = document.getElementById('jobs');
const shown = new Map(); // job id -> {holder, job}

function show(job) {
  document.getElementById('empty')?.remove();
  let entry = shown.get(job.id);
  if (!entry) {
    const holder = document.createElement('div');
    holder.className = 'job';
    box.prepend(holder);
    entry = { holder, job };
    shown.set(job.id, entry);
  }
  entry.job = job;
  globalThis.sottoPanel.render(entry.holder, job);
}

const wanted = location.hash.slice(1);
onNotify((m) => {
  if (m.op === 'ext.job') {
    if (!wanted || m.job.id === wanted) show(m.job);
    return;
  }
  const entry = shown.get(m.job);
  if (entry) globalThis.sottoPanel.update(entry.holder, entry.job, m);
});
const recent = await request({ op: 'ext.jobs.recent' });
for (const job of [...(recent ?? [])].reverse()) if ((!wanted || job.id === wanted) && !shown.has(job.id)) show(job);
if (wanted && !shown.has(wanted)) {
  const job = await request({ op: 'ext.jobs.get', job: wanted });
  if (job && !shown.has(job.id)) show(job);
}
if (!shown.size && !wanted) {
  const p = document.createElement('p');
  p.id = 'empty';
  p.textContent = 'Nothing yet: select text on a page and right-click to summarize or classify it.';
  box.append(p);
}
