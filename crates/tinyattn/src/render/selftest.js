// With `#selftest` in the URL the page drives itself as a user would and writes the outcome as
// JSON into <pre id="selftest-result">, for headless browser tests that only get the final DOM.
// It runs from <head>, before the viewer, so errors thrown while the viewer starts are caught,
// and it finishes synchronously on DOMContentLoaded, before the browser dumps the DOM.
(() => {
  'use strict';
  if (location.hash !== '#selftest') return;

  const errors = [];
  window.onerror = (message, source, line) => {
    errors.push(`${message} (${source}:${line})`);
  };
  const consoleError = console.error.bind(console);
  console.error = (...args) => {
    errors.push(args.map(String).join(' '));
    consoleError(...args);
  };

  const click = (target) =>
    target.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, view: window }));
  const lines = () => [...document.querySelectorAll('#lines .attn-line')];
  const keys = () => lines().map((l) => `${l.dataset.head}:${l.dataset.from}>${l.dataset.to}`).join(' ');
  const check = (ok, what) => {
    if (!ok) errors.push(what);
  };

  function run() {
    const result = { ok: false, panels: 0, lines_before: 0, lines_after: 0, errors };
    try {
      const first = JSON.parse(document.getElementById('data').textContent).sentences[0];
      const want = first.attention.length * first.attention[0].length;
      const panels = [...document.querySelectorAll('.panel')];
      result.panels = panels.length;
      check(panels.length === want, `${panels.length} panels, expected ${want}`);

      const before = keys();
      result.lines_before = lines().length;
      check(result.lines_before > 0, 'no lines drawn');
      const words = document.querySelectorAll('.word-left');
      if (words.length < 2) throw new Error(`only ${words.length} words on the left`);
      click(words[1]);
      result.lines_after = lines().length;
      check(result.lines_after > 0, 'no lines after clicking word 1');
      const stray = lines().filter((l) => l.dataset.from !== '1').length;
      check(stray === 0, `${stray} lines not from word 1 after clicking it`);
      check(keys() !== before, 'clicking word 1 changed nothing');
      click(words[1]);
      check(keys() === before, 'clicking word 1 again did not unpin it');

      const last = panels[panels.length - 1];
      click(last);
      const layer = document.getElementById('layer').value;
      const checked = [...document.querySelectorAll('#heads input:checked')].map((i) => i.dataset.head).join();
      const drawn = [...new Set(lines().map((l) => l.dataset.head))].join();
      check(
        layer === last.dataset.layer && checked === last.dataset.head && drawn === last.dataset.head,
        `panel L${last.dataset.layer} H${last.dataset.head} opened layer ${layer}, heads [${checked}], lines of [${drawn}]`,
      );

      // Back to the opening view, so a screenshot shows what a reader first sees.
      click(panels[0]);
      click(document.getElementById('all-heads'));
      check(keys() === before, 'the opening view did not come back');
    } catch (e) {
      errors.push(`selftest: ${(e && e.stack) || e}`);
    }
    result.ok = errors.length === 0;
    const pre = document.createElement('pre');
    pre.id = 'selftest-result';
    pre.textContent = JSON.stringify(result);
    document.body.append(pre);
  }

  document.addEventListener('DOMContentLoaded', run);
})();
