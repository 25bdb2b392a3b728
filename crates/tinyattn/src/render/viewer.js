// The attention viewer: a head view (SVG lines between two columns of words) and a model view
// (a canvas thumbnail per layer × head). All state lives in `state`; every control changes it and
// redraws what depends on it.
(() => {
  'use strict';

  const DATA = JSON.parse(document.getElementById('data').textContent);
  const $ = (id) => document.getElementById(id);
  const svg = $('head-svg');
  // Taken from the page's own <svg> so that the file spells out no URL at all.
  const NS = svg.namespaceURI;

  // Tableau 10 without its orange and yellow, which would be mistaken for gold links.
  const HEAD_COLORS = ['#4e79a7', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#ff9da7', '#9c755f', '#bab0ac'];
  // Below this a line is invisible anyway; skipping it keeps long sentences responsive.
  const MIN_WEIGHT = 0.01;
  const ROW_H = 24;
  const TOP = 34;
  const LEFT_X = 140;
  const RIGHT_X = 340;
  const WIDTH = 480;
  const LABEL_MAX = 18;
  const THUMB = 96;

  const state = { s: 0, layer: 0, heads: new Set(), pinned: null, hover: null };
  const sentence = () => DATA.sentences[state.s];
  const rgb = (c) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
  const headColor = (h) => HEAD_COLORS[h % HEAD_COLORS.length];
  const rowY = (i) => TOP + i * ROW_H + ROW_H / 2;
  const range = (n) => [...Array(n).keys()];

  // The same interpolation over the same stops as `render::color` in Rust, so the thumbnails
  // match the PNG and the terminal.
  function color(w) {
    const s = DATA.scale;
    const t = Number.isFinite(w) ? Math.min(1, Math.max(0, w)) : 0;
    const pos = t * (s.length - 1);
    const i = Math.min(Math.floor(pos), s.length - 2);
    const f = pos - i;
    return s[i].map((a, c) => Math.round(a + (s[i + 1][c] - a) * f));
  }

  function make(tag, attrs = {}, text = null, ns = null) {
    const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    // textContent, never innerHTML: a word may itself be markup.
    if (text !== null) e.textContent = text;
    return e;
  }
  const svgMake = (tag, attrs, text = null) => make(tag, attrs, text, NS);

  function setup() {
    document.documentElement.style.setProperty('--gold', rgb(DATA.gold));
    const picker = $('sentence');
    DATA.sentences.forEach((s, i) => {
      picker.append(make('option', { value: i }, `${i + 1}. ${s.title ?? s.words.join(' ')}`));
    });
    picker.addEventListener('change', () => showSentence(Number(picker.value)));
    $('layer').addEventListener('change', (e) => {
      state.layer = Number(e.target.value);
      redraw();
    });
    $('all-heads').addEventListener('click', () => setHeads(range(heads())));
    $('no-heads').addEventListener('click', () => setHeads([]));
    // A click on the background unpins; clicks on words stop before reaching here.
    svg.addEventListener('click', () => {
      state.pinned = null;
      drawLines();
    });
    const stops = range(11).map((i) => rgb(color(i / 10))).join(', ');
    $('scale-bar').style.background = `linear-gradient(to right, ${stops})`;
    showSentence(0);
  }

  const heads = () => sentence().attention[0].length;

  function showSentence(i) {
    state.s = i;
    const s = sentence();
    state.layer = Math.min(state.layer, s.attention.length - 1);
    state.heads = new Set(range(heads()));
    state.pinned = null;
    state.hover = null;
    $('caption').textContent = s.title ?? s.words.join(' ');
    const layer = $('layer');
    layer.textContent = '';
    s.attention.forEach((_, l) => layer.append(make('option', { value: l }, String(l))));
    layer.value = String(state.layer);
    drawHeadBoxes();
    drawWords();
    drawModel();
    redraw();
  }

  function drawHeadBoxes() {
    const box = $('heads');
    box.textContent = '';
    for (const h of range(heads())) {
      const input = make('input', { type: 'checkbox', 'data-head': h });
      input.addEventListener('change', () => {
        if (input.checked) state.heads.add(h);
        else state.heads.delete(h);
        redraw();
      });
      const swatch = make('span', { class: 'swatch' });
      swatch.style.background = headColor(h);
      const label = make('label', { title: `head ${h}` });
      label.append(input, swatch, `head ${h}`);
      box.append(label);
    }
  }

  function setHeads(list) {
    state.heads = new Set(list);
    redraw();
  }

  function redraw() {
    for (const input of $('heads').querySelectorAll('input')) {
      input.checked = state.heads.has(Number(input.dataset.head));
    }
    for (const panel of document.querySelectorAll('.panel')) {
      const on = Number(panel.dataset.layer) === state.layer && state.heads.has(Number(panel.dataset.head));
      panel.classList.toggle('selected', on);
    }
    drawLines();
  }

  function drawWords() {
    const s = sentence();
    const height = TOP + s.words.length * ROW_H + 8;
    svg.setAttribute('width', WIDTH);
    svg.setAttribute('height', height);
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${height}`);
    const g = $('words');
    g.textContent = '';
    g.append(svgMake('text', { x: LEFT_X, y: 12, 'text-anchor': 'end', class: 'caption' }, 'query'));
    g.append(svgMake('text', { x: RIGHT_X, y: 12, class: 'caption' }, 'key'));
    const goldFrom = new Set(s.highlights.map(([f]) => f));
    const goldTo = new Set(s.highlights.map(([, t]) => t));
    s.words.forEach((word, i) => {
      for (const side of ['left', 'right']) {
        const left = side === 'left';
        const shown = word.length > LABEL_MAX ? `${word.slice(0, LABEL_MAX - 1)}…` : word;
        const t = svgMake('text', {
          x: left ? LEFT_X : RIGHT_X,
          y: rowY(i),
          'text-anchor': left ? 'end' : 'start',
          class: `word-${side}`,
          'data-index': i,
        }, shown);
        if ((left ? goldFrom : goldTo).has(i)) t.classList.add('gold');
        t.append(svgMake('title', {}, word));
        t.addEventListener('mouseenter', () => {
          state.hover = { side, i };
          drawLines();
        });
        t.addEventListener('mouseleave', () => {
          state.hover = null;
          drawLines();
        });
        t.addEventListener('click', (e) => {
          e.stopPropagation();
          const p = state.pinned;
          state.pinned = p && p.side === side && p.i === i ? null : { side, i };
          drawLines();
        });
        g.append(t);
      }
    });
  }

  function drawLines() {
    const s = sentence();
    const attention = s.attention[state.layer];
    const focus = state.hover ?? state.pinned;
    const shown = (q, k) => !focus || (focus.side === 'left' ? q === focus.i : k === focus.i);
    const [x1, x2] = [LEFT_X + 8, RIGHT_X - 8];
    const lines = $('lines');
    lines.textContent = '';
    for (const h of [...state.heads].sort((a, b) => a - b)) {
      attention[h].forEach((row, q) => row.forEach((w, k) => {
        if (w < MIN_WEIGHT || !shown(q, k)) return;
        const line = svgMake('line', {
          x1, x2, y1: rowY(q), y2: rowY(k),
          class: 'attn-line',
          'data-from': q,
          'data-to': k,
          'data-head': h,
          stroke: headColor(h),
          'stroke-opacity': w.toFixed(3),
          'stroke-width': (0.5 + 4 * w).toFixed(2),
        });
        line.append(svgMake('title', {}, `${s.words[q]} → ${s.words[k]}: ${w.toFixed(2)} (head ${h})`));
        lines.append(line);
      }));
    }
    const gold = $('gold');
    gold.textContent = '';
    for (const [f, t] of s.highlights) {
      if (!shown(f, t)) continue;
      const line = svgMake('line', { x1, x2, y1: rowY(f), y2: rowY(t), class: 'gold-line' });
      line.append(svgMake('title', {}, `gold link: ${s.words[f]} → ${s.words[t]}`));
      gold.append(line);
    }
    for (const t of $('words').querySelectorAll('text[data-index]')) {
      const side = t.classList.contains('word-left') ? 'left' : 'right';
      t.classList.toggle('focus', !!focus && focus.side === side && focus.i === Number(t.dataset.index));
    }
  }

  function drawModel() {
    const s = sentence();
    const n = s.words.length;
    const cell = Math.max(2, Math.min(10, Math.floor(THUMB / n)));
    const grid = $('grid');
    grid.textContent = '';
    grid.style.gridTemplateColumns = `auto repeat(${heads()}, auto)`;
    grid.append(make('span'));
    for (const h of range(heads())) grid.append(make('span', { class: 'axis' }, `head ${h}`));
    s.attention.forEach((layer, l) => {
      grid.append(make('span', { class: 'axis' }, `layer ${l}`));
      layer.forEach((matrix, h) => {
        const panel = make('div', { class: 'panel', 'data-layer': l, 'data-head': h, title: `layer ${l} head ${h}` });
        const canvas = make('canvas', { width: n * cell, height: n * cell });
        heatmap(canvas, matrix, s.highlights, cell);
        panel.append(canvas);
        panel.addEventListener('click', () => {
          state.layer = l;
          $('layer').value = String(l);
          setHeads([h]);
        });
        grid.append(panel);
      });
    });
  }

  function heatmap(canvas, matrix, highlights, cell) {
    const ctx = canvas.getContext('2d');
    matrix.forEach((row, q) => row.forEach((w, k) => {
      ctx.fillStyle = rgb(color(w));
      ctx.fillRect(k * cell, q * cell, cell, cell);
    }));
    const lw = Math.max(1, Math.floor(cell / 4));
    ctx.strokeStyle = rgb(DATA.gold);
    ctx.lineWidth = lw;
    for (const [q, k] of highlights) ctx.strokeRect(k * cell + lw / 2, q * cell + lw / 2, cell - lw, cell - lw);
  }

  setup();
})();
