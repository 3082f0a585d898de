// panel.js - the results view. Injected into the page as a content script,
// it shows a panel that the background fills as answers stream in, in a
// closed shadow root: the page's styles cannot reach it and the page's
// scripts cannot read it. It stands beside or below the selection, never
// over it, and the user can drag it by its title (src/panel-place.js).
// results.html loads the same file to show a job on an extension page
// instead.
// Classic script, safe to inject more than once. Its link to the extension
// is globalThis.sottoPort (platform.js's contentPort, run before it).
//
// The background sends a job once ({op:'ext.job'}), then only what changes
// ('ext.job.set': fields; 'ext.job.partial': one partial), and the view
// redraws only what changed: a partial updates its step in place.
(() => {
  if (globalThis.sottoPanel) return;
  const port = () => globalThis.sottoPort;

  const CSS = `
    :host { all: initial; }
    .panel { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2733;
      background: #fff; border: 1px solid #c9d3de; border-radius: 10px; box-shadow: 0 8px 28px rgba(20,40,70,.22);
      width: 380px; max-height: calc(100vh - 32px); overflow: auto; box-sizing: border-box; }
    .page .panel { width: 100%; max-height: calc(100vh - 16px); }
    .page header { cursor: move; touch-action: none; }
    .cut { padding: 6px 14px; font-size: 13px; background: #fff7e0; border-bottom: 1px solid #f0d890; }
    header { display: flex; align-items: center; gap: 8px; padding: 10px 14px; border-bottom: 1px solid #e3e9ef;
      background: #2e5a88; color: #fff; border-radius: 10px 10px 0 0; }
    header b { flex: 1; font-size: 15px; }
    button { font: inherit; cursor: pointer; border-radius: 6px; border: 1px solid #c9d3de; background: #f4f7fa;
      color: #1d2733; padding: 3px 10px; }
    header button { background: transparent; color: #fff; border-color: rgba(255,255,255,.5); }
    section { padding: 10px 14px; border-bottom: 1px solid #eef2f6; }
    h3 { margin: 0 0 6px; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #52667a; }
    ul { margin: 0; padding-left: 18px; }
    li { margin: 3px 0; }
    .labels li { list-style: none; margin-left: -18px; display: flex; gap: 8px; align-items: center; }
    .bar { height: 6px; background: #2e5a88; border-radius: 3px; }
    .meta { margin-top: 6px; font-size: 12px; color: #6a7b8c; }
    .error { color: #9b1c1c; }
    .hint { margin-top: 4px; font-size: 13px; background: #fff7e0; border: 1px solid #f0d890; border-radius: 6px; padding: 6px 8px; }
    code { font-family: ui-monospace, monospace; background: #eef2f6; padding: 1px 4px; border-radius: 4px; }
    .running { color: #6a7b8c; font-style: italic; }
    .verdict { margin-bottom: 6px; }
    footer { padding: 8px 14px; font-size: 12px; color: #6a7b8c; display: flex; gap: 8px; align-items: center; }
    footer span { flex: 1; }
    .stream { white-space: pre-wrap; }
  `;

  const TITLES = {
    'summarize-selection': 'Summary of the selection',
    'summarize-page': 'Summary of the page',
    'classify-selection': 'Classification of the selection',
  };

  function el(tag, attrs = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k);
    return e;
  }

  // Inline `code` spans in hints, as text nodes (never HTML from outside).
  function withCode(text) {
    return String(text).split('`').map((part, i) => (i % 2 ? el('code', {}, part) : part));
  }

  // The engine's answers, shown without knowing every op's shape: a summary
  // (text or sentences), or labels with probabilities.
  // Key points are a list; a tldr or headline is one paragraph.
  function sentencesOf(result) {
    if (!result) return [];
    if (Array.isArray(result.sentences) && (result.style ?? 'key-points') === 'key-points') {
      return result.sentences.map((s) => (typeof s === 'string' ? s : s.text));
    }
    if (typeof result.summary === 'string') {
      // a language model's key points: its bullet lines
      const bullets = result.summary.split('\n').map((l) => l.trim()).filter((l) => /^([-•*]|\d+[.)])\s+/.test(l));
      if (result.style === 'key-points' && bullets.length) return bullets.map((l) => l.replace(/^([-•*]|\d+[.)])\s+/, ''));
      return [result.summary];
    }
    return [];
  }
  function labelsOf(result) {
    const list = result?.labels ?? result?.predictions ?? result?.classes;
    return Array.isArray(list) ? list.map((l) => ({ label: l.label ?? l.name, prob: l.prob ?? l.probability ?? l.score })) : [];
  }
  function progressOf(step) {
    const p = step.progress;
    if (step.copy && step.copy.done < step.copy.total) {
      return `Copying ${step.model} to the native host (once)… ${Math.floor((100 * step.copy.done) / step.copy.total)}%`;
    }
    if (p?.stage === 'map' && p.parts) return `Reading part ${p.part} of ${p.parts}…`;
    if (p?.stage === 'reduce') return 'Writing the summary of the parts…';
    return p ? `Working… ${Math.round(p.progress * 100)}%${p.stage ? ` (${p.stage})` : ''}` : 'Working…';
  }

  // Applies one notification to the job it belongs to; returns what to
  // redraw: 'job', a step index, or null when it changes nothing shown.
  function apply(job, msg) {
    if (msg.job !== job.id) return null;
    if (msg.op === 'ext.job.partial') {
      const step = job.steps[msg.step];
      const p = msg.partial;
      if (!step) return null;
      if (typeof p?.progress === 'number') step.progress = { progress: p.progress, stage: p.stage, part: p.part, parts: p.parts };
      if (typeof p?.text === 'string') step.text = (step.text ?? '') + p.text;
      return msg.step;
    }
    if (msg.op === 'ext.job.set') {
      if (msg.step === undefined) Object.assign(job, msg.set);
      else job.steps[msg.step] = { ...job.steps[msg.step], ...msg.set };
      return 'job';
    }
    return null;
  }

  // "German (de)": a language code with its name, in the browser's language.
  function languageName(code) {
    try {
      const name = new Intl.DisplayNames([navigator.language || 'en'], { type: 'language' }).of(code);
      return name && name !== code ? `${name} (${code})` : code;
    } catch {
      return code;
    }
  }

  // A sentiment answer in words: the verdict, or why there is none.
  function verdictOf(result) {
    if (result?.task !== 'sentiment' || !('label' in result)) return null;
    if (result.reason === 'unsupported_language') {
      return `No sentiment: the sentiment model covers ${(result.languages ?? []).map(languageName).join(', ')} only, ` +
        `and this text is in ${languageName(result.language)}.`;
    }
    if (result.label === 'neutral') {
      return result.reason === 'unknown_words' ? 'No clear sentiment: the model knows too few of these words.'
        : 'No clear sentiment.';
    }
    return `${result.label[0].toUpperCase()}${result.label.slice(1)}`;
  }

  const openOptions = () => port().request({ op: 'ext.options.open' });

  function stepText(step) {
    if (!step.result && step.text) return step.text; // still streaming
    const sents = sentencesOf(step.result);
    if (sents.length) return sents.join('\n');
    const verdict = verdictOf(step.result);
    if (verdict && !step.result.labels?.length) return verdict;
    const labels = labelsOf(step.result);
    const shown = (l) => (step.task === 'language' ? languageName(l.label) : l.label);
    if (labels.length) return (verdict ? `${verdict}: ` : '') + labels.map((l) => `${shown(l)} ${(l.prob * 100).toFixed(1)}%`).join(', ');
    return '';
  }

  function renderStep(step, idx) {
    const body = [];
    if (step.status === 'running') {
      if (!step.text || step.progress?.stage === 'map') body.push(el('div', { class: 'running' }, progressOf(step)));
      if (step.text) body.push(el('div', { class: 'stream' }, step.text));
    } else if (step.status === 'error' || step.status === 'cancelled') {
      body.push(el('div', { class: 'error', 'data-code': step.error?.code ?? '' }, step.error?.message ?? 'Failed.'));
      if (step.error?.hint) body.push(el('div', { class: 'hint' }, withCode(step.error.hint)));
      if (step.error?.code === 'cache_locked') {
        body.push(el('button', { class: 'unlock', onclick: openOptions }, 'Unlock…'));
      }
      if (step.error?.redownload) {
        body.push(el('button', { class: 'redownload', onclick: openOptions }, 'Re-download…'));
      }
    } else {
      const sents = sentencesOf(step.result);
      const labels = labelsOf(step.result);
      const verdict = verdictOf(step.result);
      if (verdict) body.push(el('div', { class: 'verdict', 'data-label': step.result.label ?? '' }, verdict));
      if (sents.length) body.push(el('ul', { class: 'summary' }, sents.map((s) => el('li', {}, s))));
      else if (labels.length) {
        body.push(el('ul', { class: 'labels' }, labels.map((l) => el('li', {},
          el('span', { class: 'label' }, step.task === 'language' ? languageName(String(l.label)) : String(l.label).replace(/^__label__/, '')),
          el('span', { class: 'bar', style: `width:${Math.max(2, Math.round(l.prob * 120))}px` }),
          el('span', { class: 'prob' }, `${(l.prob * 100).toFixed(1)}%`)))));
      } else if (!verdict) body.push(el('pre', {}, JSON.stringify(step.result, null, 1)));
    }
    const meta = [];
    if (step.model) meta.push(`model ${step.model}`);
    if (step.where) meta.push(engineName(step));
    if (step.tok_s) meta.push(`${Math.round(step.tok_s * 10) / 10} tokens/s`);
    if (step.first_token_ms !== undefined) meta.push(`first token ${step.first_token_ms} ms`);
    if (step.ms !== undefined) meta.push(`${step.ms} ms`);
    return el('section', { class: `step ${step.status}`, 'data-task': step.task, 'data-where': step.where ?? '', 'data-step': idx },
      el('h3', {}, step.title ?? step.task), body,
      meta.length ? el('div', { class: 'meta', title: step.reason ?? '' }, meta.join(' · ')) : null,
      step.reason && step.status !== 'running' ? el('div', { class: 'meta why' }, `Why ${step.where === 'native' ? 'native' : 'here'}: ${step.reason}`) : null);
  }

  // Which of the two local engines ran a step: both are on this device.
  function engineName(step) {
    const threads = step.stats?.threads ? `, ${step.stats.threads} thread${step.stats.threads > 1 ? 's' : ''}` : '';
    return step.where === 'native' ? `ran in native host (sotto-host on this computer${threads})`
      : `ran in browser (sotto's WebAssembly engine${threads})`;
  }

  // What the product left out, said plainly.
  function cutNote(source) {
    const cut = source?.cut;
    if (!cut) return null;
    if (cut.by === 'size') {
      return `Only the first ${cut.words.toLocaleString()} of ${cut.of.toLocaleString()} words were read: ` +
        `the rest is over the ${Math.round(cut.bytes / 1048576)} MB a request may hold.`;
    }
    return `Only the first ${cut.chars.toLocaleString()} characters of the selection were read: ` +
      'the browser gives no more, and this page could not be read directly.';
  }

  function render(root, job, { onClose } = {}) {
    const copyAll = () => {
      const text = job.steps.map((s) => `${s.title}:\n${stepText(s)}`).join('\n\n');
      navigator.clipboard.writeText(text).catch(() => {});
    };
    const panel = el('div', { class: 'panel', 'data-status': job.status, 'data-job': job.id },
      el('header', {}, el('b', {}, TITLES[job.kind] ?? 'sotto'),
        job.status === 'running' ? el('button', { class: 'stop', onclick: () => port().request({ op: 'cancel', target: job.id }), title: 'Stop' }, 'Stop') : null,
        el('button', { class: 'copy', onclick: copyAll, title: 'Copy the results' }, 'Copy'),
        onClose ? el('button', { class: 'close', onclick: onClose, title: 'Close' }, '×') : null),
      cutNote(job.source) ? el('div', { class: 'cut' }, cutNote(job.source)) : null,
      job.steps.map((s, i) => renderStep(s, i)),
      job.error ? el('section', { class: 'step error' },
        el('div', { class: 'error', 'data-code': job.error.code ?? '' }, job.error.message),
        job.error.hint ? el('div', { class: 'hint' }, withCode(job.error.hint)) : null) : null,
      el('footer', {}, el('span', {}, job.status === 'running' ? 'Working on this device…'
        : `${job.status === 'done' ? 'Done' : job.status === 'cancelled' ? 'Stopped' : 'Failed'} in ${job.ms} ms${job.source?.words ? ` · ${job.source.words.toLocaleString()} words` : ''}` +
          ' · nothing left this device')));
    root.replaceChildren(el('style', {}, CSS), panel);
  }

  // Applies a notification to job and redraws what it changed in root.
  function update(root, job, msg, opts) {
    const what = apply(job, msg);
    if (what === 'job') return render(root, job, opts);
    if (what === null) return;
    const section = root.querySelector(`section.step[data-step="${what}"]`);
    const step = job.steps[what];
    const stream = section?.querySelector('.stream');
    if (stream && typeof msg.partial?.text === 'string') stream.append(msg.partial.text);
    else if (section) section.replaceWith(renderStep(step, what));
  }

  let host = null, wrap = null, current = null;
  let shown = null; // {job, at}: when the first answer of the current job appeared (Date.now())
  const noteShown = () => {
    if (current && shown?.job !== current.id && current.steps?.some((st) => st.status === 'done')) {
      shown = { job: current.id, at: Date.now() };
    }
  };
  const inPage = { onClose: () => { host.remove(); host = null; } };
  const place = globalThis.sottoPlace;
  function showInPage(job) {
    const fresh = !host || !host.isConnected;
    if (fresh) {
      host = document.createElement('sotto-results');
      host.style.cssText = 'all: initial; position: fixed; z-index: 2147483647; width: 380px; left: -9999px; top: 0;';
      const shadow = host.attachShadow({ mode: 'closed' });
      wrap = document.createElement('div');
      wrap.className = 'page';
      shadow.append(wrap);
      document.documentElement.append(host);
      wrap.addEventListener('pointerdown', (e) => {
        const header = e.target.closest?.('header');
        if (header && place) place.drag(host, header, e);
      });
    }
    current = job;
    render(wrap, job, inPage);
    noteShown();
    if (fresh && place) {
      // Placed once its size is known, and again as it grows (results
      // stream in), so it never comes to cover the selection.
      place.ready.then(() => {
        place.place(host);
        new ResizeObserver(() => place.place(host)).observe(host);
      });
    }
  }

  // For the extension's own tests (run in this isolated world through the
  // background): what the panel shows and where.
  function snapshot() {
    const panel = wrap?.querySelector('.panel');
    if (!panel || !host?.isConnected) return null;
    const r = host.getBoundingClientRect();
    return {
      status: panel.dataset.status,
      job: panel.dataset.job,
      text: panel.innerText,
      answeredAt: shown?.job === panel.dataset.job ? shown.at : null,
      rect: { left: r.left, top: r.top, right: r.right, bottom: r.bottom },
      steps: [...panel.querySelectorAll('section.step')].map((sec) => ({
        task: sec.dataset.task, where: sec.dataset.where, text: sec.innerText,
        errorCode: sec.querySelector('.error')?.dataset.code ?? null,
        redownload: !!sec.querySelector('button.redownload'),
      })),
    };
  }

  globalThis.sottoPanel = { render, update, stepText, snapshot, root: () => (host?.isConnected ? wrap : null) };
  if (port()?.inPage) {
    port().onNotify((m) => {
      if (m.op === 'ext.job' && m.job) showInPage(m.job);
      else if (current && host?.isConnected) {
        update(wrap, current, m, inPage);
        noteShown();
      }
    });
  }
})();
