// panel-place.js - where the results panel stands on a page. Injected with
// panel.js (a classic script, safe to inject more than once); runs in the
// extension's isolated world; its storage is platform.js's contentPort's.
//
//   sottoPlace.place(host)        puts the panel (its host element, fixed)
//                                 beside the selection, or below or above it,
//                                 never over it; with nothing selected,
//                                 beside the text column. Where the user last
//                                 dragged the panel wins when that covers
//                                 nothing selected.
//   sottoPlace.drag(host, handle, pointerdown)  the user drags the panel by
//                                 its handle; the place is remembered
//                                 (storage.local).
(() => {
  if (globalThis.sottoPlace) return;
  const store = globalThis.sottoPort?.store;
  const WIDTH = 380, MIN_WIDTH = 280, GAP = 16, MARGIN = 8, KEY = 'panelPlace';
  let remembered = null; // {x, y} in viewport pixels, or null
  const loaded = store?.get(KEY).then((r) => { remembered = r[KEY] ?? null; }, () => {});

  // The boxes of what is selected, in the viewport.
  function selectionBoxes() {
    const sel = getSelection();
    const boxes = [];
    for (let i = 0; i < sel.rangeCount; i++) {
      const range = sel.getRangeAt(i);
      if (range.collapsed) continue;
      for (const r of range.getClientRects()) {
        if (r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight) boxes.push(r);
      }
    }
    return boxes;
  }

  function union(boxes) {
    return boxes.reduce((u, r) => ({ left: Math.min(u.left, r.left), top: Math.min(u.top, r.top),
      right: Math.max(u.right, r.right), bottom: Math.max(u.bottom, r.bottom) }),
    { left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity });
  }

  // The page's text column: the article's box (else the main content's),
  // in the viewport.
  function columnBox() {
    const main = document.querySelector('article') ?? document.querySelector('main, [role=main]') ?? document.body;
    const r = main?.getBoundingClientRect();
    return r && r.width > 0 ? r : null;
  }

  const meets = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(v, hi));

  function fits(box, avoid) {
    return box.left >= 0 && box.top >= 0 && box.right <= innerWidth && box.bottom <= innerHeight &&
      !avoid.some((r) => meets(box, r));
  }

  // Where a panel of size w x h goes, clear of the boxes to avoid around
  // the region u: in the margin right or left of it (the panel narrows to
  // MIN_WIDTH to fit there), below it, above it; else the side with most
  // room. Returns {left, top, width}.
  function spot(u, w, h, avoid) {
    const y = clamp(u.top, MARGIN, innerHeight - h - MARGIN);
    const x = clamp(u.left, MARGIN, innerWidth - w - MARGIN);
    const right = Math.min(w, innerWidth - u.right - GAP - MARGIN);
    const left = Math.min(w, u.left - GAP - MARGIN);
    const tries = [
      { left: u.right + GAP, top: y, width: right }, { left: u.left - GAP - left, top: y, width: left },
      { left: x, top: u.bottom + GAP, width: w }, { left: x, top: u.top - GAP - h, width: w },
    ];
    for (const t of tries) {
      if (t.width >= MIN_WIDTH && fits({ left: t.left, top: t.top, right: t.left + t.width, bottom: t.top + h }, avoid)) return t;
    }
    // No room anywhere (a select-all): the widest margin, at its edge.
    return { left: innerWidth - u.right >= u.left ? innerWidth - w - MARGIN : MARGIN, top: MARGIN, width: w };
  }

  function place(host) {
    host.style.width = `${WIDTH}px`;
    const w = WIDTH, h = Math.min(host.offsetHeight || 240, innerHeight - 2 * MARGIN);
    const boxes = selectionBoxes();
    let at;
    if (remembered) {
      const r = { left: clamp(remembered.x, 0, innerWidth - w), top: clamp(remembered.y, 0, innerHeight - h), width: w };
      if (!boxes.some((b) => meets({ left: r.left, top: r.top, right: r.left + w, bottom: r.top + h }, b))) at = r;
    }
    if (!at) {
      const region = boxes.length ? union(boxes) : columnBox();
      at = region ? spot(region, w, h, boxes.length ? boxes : [region]) : { left: innerWidth - w - GAP, top: GAP, width: w };
    }
    host.style.width = `${Math.round(at.width)}px`;
    host.style.left = `${Math.round(at.left)}px`;
    host.style.top = `${Math.round(at.top)}px`;
  }

  // Drags the panel from a pointerdown on its handle; remembers the place.
  function drag(host, handle, e) {
    if (e.button !== 0 || e.target.closest('button')) return;
    e.preventDefault();
    const start = { x: e.clientX, y: e.clientY, left: host.offsetLeft, top: host.offsetTop };
    handle.setPointerCapture?.(e.pointerId);
    const move = (ev) => {
      host.style.left = `${clamp(start.left + ev.clientX - start.x, 0, innerWidth - host.offsetWidth)}px`;
      host.style.top = `${clamp(start.top + ev.clientY - start.y, 0, innerHeight - 40)}px`;
    };
    const up = () => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', up);
      remembered = { x: host.offsetLeft, y: host.offsetTop };
      store?.set({ [KEY]: remembered }).catch(() => {});
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up);
  }

  globalThis.sottoPlace = { place, drag, ready: loaded ?? Promise.resolve() };
})();
