// The UI's stylesheet and its one script, served from routes (no build step, no inline code: the
// Content-Security-Policy allows only 'self').

export const CSS = `
:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --fg: #1b1f24; --muted: #59626e; --card: #fff; --border: #d8dce2; --row: #f0f2f5;
  --accent: #1f56c3; --accent-hover: #17449d; --accent-fg: #fff; --accent-soft: #e7eefc;
  --danger: #b42318; --danger-hover: #8f1c13; --danger-soft: #fdecea; --ok: #1a7f37; --ok-soft: #e6f4ea;
  --warn-soft: #fff6e0; --focus: #f59e0b; --radius: 8px;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111418; --fg: #e6e9ee; --muted: #a0a8b4; --card: #1a1e24; --border: #323843; --row: #20252c;
    --accent: #6b9bff; --accent-hover: #8fb3ff; --accent-fg: #0b1220; --accent-soft: #1d2a45;
    --danger: #ff7b6e; --danger-hover: #ff9d93; --danger-soft: #3a1d1b; --ok: #57c27a; --ok-soft: #15301f; --warn-soft: #3a3016;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
a { color: var(--accent); }
a:hover { color: var(--accent-hover); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 4px; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
p { margin: 0 0 .75rem; }
code, .mono { font-family: var(--mono); font-size: .92em; }
.skip { position: absolute; left: -999px; top: .5rem; background: var(--card); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

.top { background: var(--card); border-bottom: 1px solid var(--border); }
.top-inner { max-width: 1200px; margin: 0 auto; padding: .6rem 1rem; display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.25rem; }
.brand { font-weight: 700; font-size: 1.1rem; color: var(--fg); text-decoration: none; display: flex; align-items: center; gap: .45rem; }
.brand-mark { display: inline-grid; place-items: center; width: 1.7rem; height: 1.7rem; border-radius: 6px; background: var(--accent); color: var(--accent-fg); font-size: .85rem; }
.nav { display: flex; flex-wrap: wrap; gap: .25rem; margin: 0; padding: 0; list-style: none; }
.nav a { display: block; padding: .35rem .7rem; border-radius: 6px; text-decoration: none; color: var(--muted); font-weight: 500; }
.nav a:hover { background: var(--row); color: var(--fg); }
.nav a[aria-current="page"] { background: var(--accent-soft); color: var(--accent); }
.who { margin-left: auto; display: flex; align-items: center; gap: .75rem; color: var(--muted); font-size: .9rem; min-width: 0; }
.who-email { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 22ch; }
.who form { margin: 0; }

main { max-width: 1200px; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
main:focus { outline: none; }
.page-head { display: flex; flex-wrap: wrap; align-items: flex-end; justify-content: space-between; gap: .5rem 1rem; margin-bottom: 1.25rem; }
.page-head p { color: var(--muted); margin: 0; }
.crumbs { font-size: .9rem; margin-bottom: .35rem; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: var(--radius); padding: 1.1rem 1.2rem; margin-bottom: 1.25rem; }
.card > :last-child { margin-bottom: 0; }
.muted { color: var(--muted); }
.small { font-size: .875rem; }

.alert { border-radius: var(--radius); padding: .7rem 1rem; margin-bottom: 1rem; border: 1px solid transparent; }
.alert-error { background: var(--danger-soft); border-color: var(--danger); color: var(--fg); }
.alert-ok { background: var(--ok-soft); border-color: var(--ok); }
.alert-warn { background: var(--warn-soft); border-color: #d4a017; }

label { font-weight: 600; display: block; margin-bottom: .3rem; }
.field { margin-bottom: 1rem; }
.hint { color: var(--muted); font-size: .85rem; margin: .25rem 0 0; }
input[type="text"], input[type="email"], input[type="password"], select {
  font: inherit; color: var(--fg); background: var(--card); width: 100%; min-height: 2.6rem;
  padding: .45rem .65rem; border: 1px solid var(--border); border-radius: 6px;
}
input:focus-visible, select:focus-visible { border-color: var(--accent); }
fieldset { border: 0; padding: 0; margin: 0 0 1rem; min-width: 0; }
legend { font-weight: 600; padding: 0; margin-bottom: .3rem; }
.choices { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; }
.choice { display: flex; align-items: center; gap: .4rem; font-weight: 400; margin: 0; min-height: 2rem; }
.choice input { width: 1.1rem; height: 1.1rem; margin: 0; accent-color: var(--accent); }
.form-grid { display: grid; grid-template-columns: 2fr 1fr 1.6fr; gap: .75rem 1rem; align-items: start; }
.form-grid .field, .form-grid fieldset { margin-bottom: 0; }
.form-grid .actions, .form-grid .custom-scopes { grid-column: 1 / -1; }
.custom-scopes { border: 1px solid var(--border); border-radius: var(--radius); padding: .6rem 1rem 1rem; background: color-mix(in srgb, var(--row) 50%, transparent); }
.custom-scopes > legend { padding: 0 .35rem; }
.custom-scopes > .hint { margin: 0 0 .75rem; }
.scope-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(10.5rem, 1fr)); gap: .75rem 1rem; align-items: end; }
.scope-grid .field { margin: 0; }
.scope-grid .scope-records { grid-column: 1 / -1; margin: 0; }
[hidden] { display: none !important; }
ul.scope-list { list-style: none; margin: 0; padding: 0; }
ul.scope-list li { display: flex; flex-wrap: wrap; gap: 0 .75rem; }
ul.scope-list .scope-name { min-width: 8.5rem; font-weight: 600; }
ul.scope-list li.muted .scope-name { font-weight: 400; }
.inline-form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-end; }
.inline-form .field { flex: 1 1 16rem; margin: 0; }

.btn { font: inherit; font-weight: 600; display: inline-flex; align-items: center; justify-content: center; gap: .35rem;
  min-height: 2.6rem; padding: .45rem 1rem; border-radius: 6px; border: 1px solid transparent; cursor: pointer; text-decoration: none; white-space: nowrap; }
.btn-primary { background: var(--accent); color: var(--accent-fg); }
.btn-primary:hover { background: var(--accent-hover); color: var(--accent-fg); }
.btn-secondary { background: var(--card); color: var(--fg); border-color: var(--border); }
.btn-secondary:hover { background: var(--row); color: var(--fg); }
.btn-danger { background: var(--danger); color: #fff; }
.btn-danger:hover { background: var(--danger-hover); color: #fff; }
.btn-small { min-height: 2.1rem; padding: .2rem .7rem; font-size: .875rem; }
.btn[disabled], .btn:disabled { opacity: .45; cursor: not-allowed; }
.link-btn { font: inherit; background: none; border: 0; padding: 0; color: var(--accent); text-decoration: underline; cursor: pointer; }
.row-actions { display: flex; gap: .4rem; flex-wrap: wrap; }
.row-actions form { margin: 0; }

.table-wrap { background: var(--card); border: 1px solid var(--border); border-radius: var(--radius); overflow-x: auto; margin-bottom: 1rem; }
.table-wrap table { font-size: .925rem; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .55rem .6rem; border-bottom: 1px solid var(--border); vertical-align: middle; }
th { font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); background: var(--row); font-weight: 600; white-space: nowrap; }
tbody tr:last-child td { border-bottom: 0; }
tbody tr:hover { background: color-mix(in srgb, var(--row) 60%, transparent); }
td.name { font-weight: 600; overflow-wrap: break-word; min-width: 7rem; }
td.creator { overflow-wrap: break-word; }
td time, td .when { white-space: nowrap; }
td.actions { text-align: right; width: 1%; white-space: nowrap; }
td.actions .row-actions { justify-content: flex-end; flex-wrap: nowrap; }
.table-note { color: var(--muted); font-size: .8rem; margin: -.5rem 0 1rem; text-align: right; }
td.check, th.check { width: 2.5rem; }
td.check input, th.check input { width: 1.15rem; height: 1.15rem; accent-color: var(--accent); margin: 0; }
.empty { padding: 1.5rem; text-align: center; color: var(--muted); }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem; margin-bottom: .6rem; }
.toolbar h2 { margin: 0; }
.toolbar form { margin: 0; }

.badge { display: inline-block; font-size: .75rem; font-weight: 600; padding: .1rem .5rem; border-radius: 999px; background: var(--row); color: var(--muted); border: 1px solid var(--border); white-space: nowrap; }
.badge-r { background: var(--accent-soft); color: var(--accent); border-color: transparent; }
.badge-rw, .badge-admin { background: var(--ok-soft); color: var(--ok); border-color: transparent; }
.badge-danger { background: var(--danger-soft); color: var(--danger); border-color: transparent; }

.switch { font: inherit; display: inline-flex; align-items: center; gap: .5rem; background: none; border: 0; padding: .2rem; cursor: pointer; color: var(--fg); border-radius: 999px; }
.switch .track { position: relative; width: 2.6rem; height: 1.5rem; border-radius: 999px; background: var(--border); transition: background .15s; flex: none; }
.switch .track::after { content: ""; position: absolute; top: .2rem; left: .2rem; width: 1.1rem; height: 1.1rem; border-radius: 50%; background: #fff; box-shadow: 0 1px 2px rgba(0,0,0,.3); transition: transform .15s; }
.switch[aria-checked="true"] .track { background: var(--ok); }
.switch[aria-checked="true"] .track::after { transform: translateX(1.1rem); }
.switch .state { font-size: .85rem; color: var(--muted); min-width: 2.2rem; text-align: left; }
.switch-form { margin: 0; }

dl.details { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1.5rem; margin: 0; }
dl.details dt { color: var(--muted); }
dl.details dd { margin: 0; overflow-wrap: anywhere; }
.split { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1.25rem; align-items: start; }
.narrow { max-width: 40rem; }
.narrow ul { margin: 0 0 1rem; padding-left: 1.25rem; }
.danger-zone { border-color: color-mix(in srgb, var(--danger) 45%, var(--border)); }

dialog { border: 1px solid var(--border); border-radius: 12px; padding: 1.4rem 1.5rem; width: min(34rem, calc(100vw - 2rem)); background: var(--card); color: var(--fg); box-shadow: 0 20px 50px rgba(0,0,0,.3); }
dialog::backdrop { background: rgba(15, 20, 30, .55); }
dialog h2 { font-size: 1.25rem; }
.copy-row { display: flex; gap: .5rem; }
.copy-row input { font-family: var(--mono); font-size: .9rem; flex: 1; min-width: 0; }
.dialog-actions { display: flex; justify-content: flex-end; gap: .5rem; margin-top: 1rem; }
.copy-status { min-height: 1.5rem; font-size: .9rem; color: var(--muted); margin: .5rem 0 0; }
.copy-status[data-copied] { color: var(--ok); font-weight: 600; }
.base-uuid { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem; margin-top: .25rem; }
.base-uuid code { font-family: var(--mono); font-size: .9rem; user-select: all; overflow-wrap: anywhere; }
.base-uuid .copy-status { margin: 0; min-height: 0; }

.signin { max-width: 25rem; margin: 8vh auto 0; }
.signin .brand { justify-content: center; margin-bottom: 1.25rem; font-size: 1.35rem; }
.signin h1 { font-size: 1.35rem; text-align: center; margin-bottom: 1rem; }
.signin .btn { width: 100%; }
.signin > p { text-align: center; }

@media (max-width: 760px) {
  .form-grid, .split { grid-template-columns: 1fr; }
  .form-grid .actions .btn { width: 100%; }
  .who { margin-left: 0; width: 100%; justify-content: space-between; }
  main { padding-top: 1rem; }
  h1 { font-size: 1.35rem; }
  .stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  .stack, .stack tbody, .stack tr, .stack td { display: block; width: 100%; }
  .stack tr { border-bottom: 1px solid var(--border); padding: .5rem 0; position: relative; }
  .stack tbody tr:last-child { border-bottom: 0; }
  .stack td { border: 0; padding: .25rem .9rem; display: flex; justify-content: space-between; align-items: center; gap: 1rem; text-align: right; }
  .stack td[data-label]::before { content: attr(data-label); color: var(--muted); font-size: .85rem; font-weight: 500; text-align: left; }
  .stack td.name { font-size: 1.05rem; text-align: left; justify-content: flex-start; padding-right: 3rem; }
  .stack td.name::before { display: none; }
  .stack td.check { position: absolute; right: .4rem; top: .75rem; width: auto; padding: 0 .5rem; }
  .stack td.check::before { display: none; }
  .stack td.actions { justify-content: flex-end; width: 100%; }
  .stack td.creator { max-width: none; }
  .table-note { text-align: left; margin-top: 0; }
  .stack td.actions::before { display: none; }
}
`;

export const SCRIPT = `(() => {
  'use strict';

  // The show-once secret: the dialog opens modal, Done is enabled only once the secret has been copied,
  // and closing it leaves a page without the secret (history entry replaced, no reload of the POST).
  const dialog = document.getElementById('secret-dialog');
  if (dialog) {
    const input = document.getElementById('secret-value');
    const copy = document.getElementById('secret-copy');
    const done = document.getElementById('secret-done');
    const status = document.getElementById('secret-status');
    const next = dialog.getAttribute('data-next') || location.pathname;
    let copied = false;
    let finished = false;
    history.replaceState(null, '', next);
    const markCopied = (message) => {
      copied = true;
      done.disabled = false;
      status.textContent = message;
      status.setAttribute('data-copied', '');
    };
    if (dialog.open) dialog.close();
    dialog.showModal();
    copy.focus();
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(input.value);
        markCopied('Copied to the clipboard.');
        done.focus();
      } catch {
        input.focus();
        input.select();
        status.textContent = 'Could not copy automatically: the token is selected, press Ctrl+C (⌘C on a Mac).';
      }
    });
    input.addEventListener('focus', () => input.select());
    input.addEventListener('copy', () => markCopied('Copied.'));
    dialog.addEventListener('cancel', (event) => {
      if (!copied) event.preventDefault();
    });
    const finish = () => {
      if (finished) return;
      finished = true;
      input.value = '';
      dialog.remove();
      location.replace(next);
    };
    dialog.addEventListener('close', () => {
      if (copied) finish();
      else if (!finished) dialog.showModal();
    });
    done.addEventListener('click', () => {
      if (copied) dialog.close();
    });
    window.addEventListener('pagehide', () => {
      input.value = '';
    });
  }

  // Copy buttons for plain values (the base UUID): hidden without this script, where the value is
  // selectable text; a failed copy selects it instead.
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const id = button.getAttribute('data-copy');
    const value = document.getElementById(id);
    const status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!value) continue;
    button.hidden = false;
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(value.textContent.trim());
        if (status) status.textContent = 'Copied.';
      } catch {
        getSelection().selectAllChildren(value);
        if (status) status.textContent = 'Selected: press Ctrl+C (⌘C on a Mac) to copy.';
      }
    });
  }

  // Custom permissions: shown (and submitted) only while "Custom" is chosen; without this script the
  // fieldset is always visible and the server uses it only for "Custom".
  for (const panel of document.querySelectorAll('[data-custom-scopes]')) {
    const radios = [...panel.form.querySelectorAll('input[type=radio][name=permission]')];
    const sync = () => {
      const custom = radios.some((radio) => radio.checked && radio.value === 'custom');
      panel.hidden = !custom;
      panel.disabled = !custom;
    };
    for (const radio of radios) radio.addEventListener('change', sync);
    sync();
  }

  // Bulk selection: a select-all box and a delete button that is enabled while something is selected.
  for (const form of document.querySelectorAll('form[data-bulk]')) {
    const boxes = () => [...document.querySelectorAll('input[type=checkbox][form="' + form.id + '"]')];
    const all = document.querySelector('input[data-select-all="' + form.id + '"]');
    const submit = form.querySelector('button[type=submit]');
    const sync = () => {
      const list = boxes();
      const checked = list.filter((box) => box.checked).length;
      submit.disabled = checked === 0;
      submit.textContent = checked > 0 ? 'Delete selected (' + checked + ')' : 'Delete selected';
      if (all) {
        all.checked = list.length > 0 && checked === list.length;
        all.indeterminate = checked > 0 && checked < list.length;
      }
    };
    if (all) {
      all.hidden = false;
      all.addEventListener('change', () => {
        for (const box of boxes()) box.checked = all.checked;
        sync();
      });
    }
    for (const box of boxes()) box.addEventListener('change', sync);
    sync();
  }
})();
`;

/** The favicon: the header's "tl" mark, as a small SVG served from /ui/assets/favicon.svg. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1f56c3"/><text x="16" y="22" font-family="system-ui,sans-serif" font-size="16" font-weight="700" fill="#fff" text-anchor="middle">tl</text></svg>`;

/** A short content hash for cache-busting URLs (FNV-1a; not a security function). */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(36);
}

export const CSS_URL = `/ui/assets/app.css?v=${fingerprint(CSS)}`;
export const SCRIPT_URL = `/ui/assets/app.js?v=${fingerprint(SCRIPT)}`;
