// The playground page. Bundled by esbuild (playground/serve.js) with `surefetch` imported by name,
// exactly as an app would. Plain DOM, no framework.
//
// On Send, the same request goes out twice at the same time:
//   - raw fetch: `fetch(url)` then `.json()` / `.text()`, with only a safety AbortSignal.timeout;
//   - surefetch: a client made from the form, whose `on` listeners feed the timeline (timeline.js).
// Both use `cache: 'no-store'`: Chromium makes identical GETs wait for each other behind one HTTP
// cache entry, which would make one side's timings depend on the other's.

import { createClient, hedge, isFetchError } from 'surefetch';
import { explainFailure, explainRaw, explainRetries } from './explain.js';
import { FAULTS, GROUPS } from './faults.js';
import { createRecorder, formatMs, renderTimeline, short } from './timeline.js';

const $ = (selector) => document.querySelector(selector);
const form = $('#form');

/** @type {{ faultUrl: string, tlsUrl: string, refusedUrl: string, routes: {path: string, description: string}[] }} */
let config;
let selected; // the selected fault
let current; // the run in flight
let shown; // the run on screen
let runCount = 0;
const runs = []; // the history, newest first

// ---------------------------------------------------------------------------------------------
// Form values
// ---------------------------------------------------------------------------------------------

const PRESETS = {
  // Short enough that a stall ends in a second or two: the timeline stays readable.
  demo: { total: 8000, headers: 3000, idle: 1000, attempt: false, limit: 2, delay: 200, jitter: false, hedge: false, max: 67108864, raw: 3000 },
  // What createClient() does with no options (SPEC.md).
  defaults: { total: 60000, headers: 10000, idle: 30000, attempt: false, limit: 2, delay: 300, jitter: false, hedge: false, max: 67108864, raw: 3000 },
};
/** Values an input shows while its switch is off (so turning it on gives something sensible). */
const WHEN_OFF = { total: 60000, headers: 10000, idle: 30000, attempt: 5000, hedge: 300, max: 67108864 };

const input = (name) => form.elements.namedItem(name);

function setNumber(name, value) {
  const on = input(`${name}-on`);
  if (on) on.checked = value !== false;
  input(name).value = String(value === false ? WHEN_OFF[name] : value);
  syncSwitch(name);
}

function syncSwitch(name) {
  const on = input(`${name}-on`);
  if (!on) return;
  input(name).disabled = !on.checked;
  input(name).closest('.field')?.classList.toggle('off', !on.checked);
}

function applyPreset(values) {
  for (const name of ['total', 'headers', 'idle', 'attempt', 'max']) setNumber(name, values[name]);
  input('limit').value = String(values.limit);
  input('delay').value = String(values.delay);
  input('jitter').checked = values.jitter;
  input('hedge-on').checked = values.hedge !== false;
  input('hedge').value = String(values.hedge === false ? WHEN_OFF.hedge : values.hedge);
  syncSwitch('hedge');
  input('raw').value = String(values.raw);
}

function numberOf(name, fallback) {
  const value = Number(input(name).value);
  return Number.isFinite(value) && input(name).value !== '' ? value : fallback;
}

const enabled = (name) => input(`${name}-on`).checked;

/** The form as plain data. */
function readSettings() {
  const deadline = (name) => (enabled(name) ? Math.max(1, Math.round(numberOf(name, WHEN_OFF[name]))) : false);
  return {
    timeout: { total: deadline('total'), headers: deadline('headers'), idle: deadline('idle'), attempt: deadline('attempt') },
    retry: { limit: Math.max(0, Math.round(numberOf('limit', 2))), delay: Math.max(0, numberOf('delay', 300)), jitter: input('jitter').checked },
    hedge: enabled('hedge') ? { delay: Math.max(0, Math.round(numberOf('hedge', 300))) } : false,
    maxBodyBytes: enabled('max') ? Math.max(0, Math.round(numberOf('max', WHEN_OFF.max))) : false,
    reader: form.elements.namedItem('reader').value || 'json',
    rawTimeout: Math.max(100, Math.round(numberOf('raw', 3000))),
  };
}

/** createClient options for these settings; `on` draws the timeline. */
function clientOptions(settings, on) {
  const base = settings.retry.delay;
  return {
    timeout: settings.timeout,
    retry: { limit: settings.retry.limit, delay: (n) => base * 2 ** (n - 1), jitter: settings.retry.jitter },
    use: settings.hedge ? [hedge(settings.hedge)] : [],
    maxBodyBytes: settings.maxBodyBytes,
    on,
  };
}

const READERS = {
  json: { call: '.json()', note: 'Reads the body inside the attempt, decodes it in the server\u2019s charset, parses it. A failure while reading is retried.' },
  text: { call: '.text()', note: 'Reads the body inside the attempt and decodes it in the server\u2019s charset. A failure while reading is retried.' },
  response: { call: 'then response.text()', note: 'Awaits the Response (headers), then your code reads response.text(): still under the idle and total deadlines, but not retried, and decoded as fetch does (UTF-8).' },
};

function codeFor(settings, url) {
  const t = settings.timeout;
  const lines = [
    settings.hedge ? "import {createClient, hedge} from 'surefetch';" : "import {createClient} from 'surefetch';",
    '',
    'const api = createClient({',
    `  timeout: {total: ${t.total}, headers: ${t.headers}, idle: ${t.idle}, attempt: ${t.attempt}},`,
    `  retry: {limit: ${settings.retry.limit}, delay: (n) => ${settings.retry.delay} * 2 ** (n - 1), jitter: ${settings.retry.jitter}},`,
  ];
  if (settings.hedge) lines.push(`  use: [hedge({delay: ${settings.hedge.delay}})],`);
  if (settings.maxBodyBytes !== PRESETS.defaults.max) lines.push(`  maxBodyBytes: ${settings.maxBodyBytes},`);
  lines.push('  on: {request, response, retry, error}, // these events draw the timeline', '});', '', `const url = '${url}';`);
  if (settings.reader === 'json') lines.push('const data = await api.get(url).json();');
  else if (settings.reader === 'text') lines.push('const text = await api.get(url).text();');
  else lines.push('const response = await api.get(url);', 'const text = await response.text(); // read by hand');
  lines.push('// on failure: catch (error) { if (isFetchError(error)) error.kind … }');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// The fault list
// ---------------------------------------------------------------------------------------------

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'testid') node.dataset.testid = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null && child !== false) node.append(child);
  return node;
}

function buildFaultList() {
  const list = $('#fault-list');
  for (const group of GROUPS) {
    list.append(
      h('div', { class: 'group', role: 'group', 'aria-label': group.title },
        h('h3', {}, group.title),
        group.faults.map((fault) =>
          h('button', { type: 'button', class: 'fault', 'data-fault': fault.id, testid: `fault-${fault.id}`, 'aria-selected': 'false', title: fault.path ?? '', onclick: () => select(fault.id) },
            h('span', { class: 'fault-name' }, fault.name),
            h('span', { class: 'fault-explain' }, fault.explain),
          ),
        ),
      ),
    );
  }
  // Any route of the fault server, typed by hand.
  const datalist = h('datalist', { id: 'routes' }, config.routes.map((r) => h('option', { value: r.path.replace(/:code/, '418') }, r.description)));
  const custom = h('input', { type: 'text', id: 'custom-path', testid: 'custom-path', placeholder: '/trickle?every=300&chunks=5', list: 'routes', spellcheck: 'false' });
  custom.addEventListener('focus', () => select('custom'));
  custom.addEventListener('input', () => select('custom'));
  list.append(h('div', { class: 'group' }, h('h3', {}, 'Any route'), h('div', { class: 'custom', id: 'custom-box' }, custom, datalist), h('p', { class: 'note', style: 'margin: 4px 10px 0' }, 'A path on the fault server; its routes are suggested as you type.')));
}

function select(id) {
  const fault = id === 'custom' ? { id: 'custom', name: 'Custom route', read: undefined } : FAULTS.get(id);
  if (!fault) return;
  const changed = selected?.id !== id;
  selected = fault;
  for (const button of document.querySelectorAll('.fault')) {
    button.setAttribute('aria-selected', String(button.dataset.fault === id));
    if (button.dataset.fault === id) button.scrollIntoView({ block: 'nearest' });
  }
  $('#empty-fault').textContent = fault.name;
  $('#custom-box').classList.toggle('active', id === 'custom');
  if (id !== 'custom') window.history.replaceState(null, '', `#${id}`);
  if (!changed) return;
  // The reader that shows this fault best, and the values it needs (flashed, so the change is seen).
  if (fault.read) {
    const radio = form.querySelector(`input[name="reader"][value="${fault.read}"]`);
    if (!radio.checked) {
      radio.checked = true;
      flash(radio.closest('label'));
      updateReaderNote();
    }
  }
  if (fault.set?.maxBodyBytes !== undefined) {
    if (!enabled('max') || numberOf('max') !== fault.set.maxBodyBytes) {
      setNumber('max', fault.set.maxBodyBytes);
      flash(input('max'));
    }
    appliedMax = fault.set.maxBodyBytes;
  } else if (appliedMax !== undefined) {
    // Leaving a size fault: put back the default, unless you changed the value since.
    if (enabled('max') && numberOf('max') === appliedMax) {
      setNumber('max', PRESETS.defaults.max);
      flash(input('max'));
    }
    appliedMax = undefined;
  }
}

/** The maxBodyBytes a size fault set, while it is still in the form. */
let appliedMax;

function flash(node) {
  node.classList.remove('flash');
  void node.offsetWidth;
  node.classList.add('flash');
}

function updateReaderNote() {
  $('#reader-note').textContent = READERS[form.elements.namedItem('reader').value]?.note ?? '';
}

function urlFor(fault, id) {
  if (fault.id === 'custom') {
    let path = $('#custom-path').value.trim() || '/ok';
    if (!path.startsWith('/')) path = `/${path}`;
    return `${config.faultUrl}${path}`;
  }
  if (fault.url) return fault.url(config);
  return `${config.faultUrl}${fault.path.replace('{id}', encodeURIComponent(id))}`;
}

// ---------------------------------------------------------------------------------------------
// Running one request both ways
// ---------------------------------------------------------------------------------------------

async function send() {
  if (current || !selected) return;
  const settings = readSettings();
  const no = ++runCount;
  const id = `pg-${Date.now().toString(36)}-${no}`;
  const run = {
    no,
    fault: selected,
    name: selected.id === 'custom' ? $('#custom-path').value.trim() || '/ok' : selected.name,
    settings,
    url: urlFor(selected, id),
    rawUrl: urlFor(selected, `${id}-raw`), // its own /flaky counter
    controller: new AbortController(),
    raw: { pending: true, started: performance.now() },
    sure: { pending: true, started: performance.now() },
    rec: createRecorder(),
  };
  current = run;
  setRunning(true);
  show(run);

  const ticker = setInterval(() => {
    if (shown !== run) return;
    renderTimeline($('#timeline'), run.rec);
    renderEvents(run);
    if (run.raw.pending) renderRaw(run);
    if (run.sure.pending) renderSure(run);
  }, 100);

  let api;
  try {
    let sureDone;
    try {
      api = createClient(clientOptions(settings, run.rec.listeners));
      sureDone = withSurefetch(api, run);
    } catch (error) {
      // createClient validates its options: a RangeError naming the option and the rule.
      run.rec.finish({ error });
      sureDone = Promise.resolve({ configError: error, ms: 0 });
    }
    const rawDone = withRawFetch(run).then((raw) => {
      run.raw = raw;
      if (shown === run) renderRaw(run);
    });
    run.sure = await sureDone;
    if (shown === run) {
      renderSure(run);
      renderTimeline($('#timeline'), run.rec);
      renderEvents(run);
    }
    await rawDone;
    addHistory(run);
  } finally {
    clearInterval(ticker);
    await api?.close(); // nothing is left in flight by now; close() makes sure
    current = undefined;
    setRunning(false);
  }
}

async function withSurefetch(api, run) {
  const { rec, settings } = run;
  const started = performance.now();
  const stamp = (type, detail) => rec.events.push({ t: rec.now(), type, detail });
  try {
    rec.t0 = performance.now(); // the timeline's 0: the call
    const request = api.get(run.url, { signal: run.controller.signal, cache: 'no-store' });
    let value;
    if (settings.reader === 'json') value = await request.json();
    else if (settings.reader === 'text') value = await request.text();
    else {
      const response = await request;
      stamp('page', `await api.get(url) resolved: ${response.status}, your code reads the body`);
      value = await response.text();
    }
    stamp('page', `${READERS[settings.reader].call} resolved`);
    rec.finish();
    return { ok: true, value, status: rec.attempts.findLast?.((a) => a.status !== undefined)?.status, ms: Math.round(performance.now() - started) };
  } catch (error) {
    stamp('page', `rejected: ${isFetchError(error) ? short(error) : String(error)}`);
    rec.finish({ error });
    if (isFetchError(error)) return { ok: false, error, ms: Math.round(performance.now() - started) };
    return { ok: false, foreign: error, ms: Math.round(performance.now() - started) };
  }
}

async function withRawFetch(run) {
  const { reader, rawTimeout } = run.settings;
  const started = performance.now();
  const safety = AbortSignal.timeout(rawTimeout);
  const signal = AbortSignal.any([safety, run.controller.signal]);
  const result = { phase: 'headers' };
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(run.rawUrl, { signal, cache: 'no-store' });
    result.phase = 'body';
    result.status = response.status;
    result.ok = response.ok;
    result.contentType = response.headers.get('content-type') ?? '';
    result.charset = /charset=([^;]+)/i.exec(result.contentType)?.[1];
    result.headersMs = elapsed();
    // 'json' -> response.json(); 'text' and 'response' -> response.text(), what a person would call.
    const value = reader === 'json' ? await response.json() : await response.text();
    result.value = typeof value === 'string' ? value : value === undefined ? 'undefined' : JSON.stringify(value, null, 1);
    result.replacement = result.value.includes('\uFFFD');
  } catch (error) {
    if (safety.aborted) result.timedOut = true;
    else if (run.controller.signal.aborted) result.stopped = true;
    else result.error = { name: error?.name ?? typeof error, message: error?.message ?? String(error), causes: causeChain(error) };
  }
  result.ms = elapsed();
  return result;
}

/** `error.cause.cause…` as lines: a code when there is one, else name: message. */
function causeChain(error) {
  const out = [];
  for (let cause = error?.cause, depth = 0; cause !== undefined && cause !== null && depth < 6; cause = cause.cause, depth++) {
    out.push(cause.code ? `${cause.name ?? 'Error'} ${cause.code}` : cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause));
  }
  return out;
}

function setRunning(running) {
  $('#send').disabled = running;
  $('#send .send-label').textContent = running ? 'Sending…' : 'Send';
  $('#stop').hidden = !running;
  document.body.dataset.state = running ? 'running' : 'done';
}

// ---------------------------------------------------------------------------------------------
// Rendering a run
// ---------------------------------------------------------------------------------------------

function show(run) {
  shown = run;
  $('#empty').hidden = true;
  $('#result').hidden = false;
  $('#req-url').textContent = run.url;
  $('#req-url').title = run.url;
  $('#req-fault').textContent = `#${run.no} · ${run.name}`;
  const call = READERS[run.settings.reader].call;
  $('#raw-call').textContent = run.settings.reader === 'json' ? 'await fetch(url) → response.json()' : 'await fetch(url) → response.text()';
  $('#sure-call').textContent = run.settings.reader === 'response' ? 'await api.get(url) → response.text()' : `await api.get(url)${call}`;
  $('#code').textContent = codeFor(run.settings, run.url);
  renderRaw(run);
  renderSure(run);
  renderTimeline($('#timeline'), run.rec);
  renderEvents(run);
  for (const item of document.querySelectorAll('.history li')) item.classList.toggle('current', Number(item.dataset.no) === run.no);
}

function setTone(node, tone) {
  node.className = node.className.replace(/\btone-\S+/g, '').trim();
  node.classList.add(`tone-${tone}`);
}

function waiting(text) {
  return h('div', { class: 'waiting' }, h('span', { class: 'spinner' }), text);
}

/** Text in a mono box, with every U+FFFD highlighted. */
function monoBox(text, tone, testid) {
  const box = h('div', { class: `mono-box ${tone ?? ''}`, testid });
  const parts = String(text).split('\uFFFD');
  parts.forEach((part, i) => {
    if (i > 0) box.append(h('span', { class: 'repl', title: 'U+FFFD: bytes that could not be decoded' }, '\uFFFD'));
    box.append(part);
  });
  return box;
}

function renderRaw(run) {
  const card = $('#raw-card');
  const body = $('#raw-body');
  const badge = $('#raw-badge');
  const raw = run.raw;
  if (raw.pending) {
    const ms = Math.round(performance.now() - raw.started);
    card.dataset.state = 'running';
    setTone(card, 'running');
    badge.textContent = 'waiting';
    body.replaceChildren(waiting(`still waiting… ${formatMs(ms)} (gives up at ${formatMs(run.settings.rawTimeout)})`));
    return;
  }
  const view = explainRaw(raw, run.settings.rawTimeout);
  card.dataset.state = 'done';
  card.dataset.outcome = view.tone;
  setTone(card, view.tone);
  badge.textContent = { bad: 'threw', warn: 'wrong, no error', hung: 'hung', good: 'ok', muted: 'stopped' }[view.tone];
  const parts = [h('div', { class: 'card-title', testid: 'raw-title' }, view.title)];
  if (raw.error) {
    parts.push(monoBox(`${raw.error.name}: ${raw.error.message}`, 'err', 'raw-error'));
    parts.push(h('ul', { class: 'causes', testid: 'raw-causes' }, raw.error.causes.length ? raw.error.causes.map((c) => h('li', {}, `cause: ${c}`)) : h('li', { class: 'none' }, 'error.cause: none')));
  } else if (raw.value !== undefined) {
    parts.push(monoBox(raw.value, raw.replacement || !raw.ok ? 'warn' : 'ok', 'raw-value'));
  }
  parts.push(h('p', { class: 'detail' }, view.detail));
  const meta = [];
  if (raw.status !== undefined) meta.push(h('span', {}, 'HTTP ', h('code', {}, String(raw.status)), raw.contentType ? ' · ' : '', raw.contentType ? h('code', {}, raw.contentType) : ''));
  meta.push(h('span', {}, `${meta.length ? ' · ' : ''}${raw.timedOut ? 'gave up after' : 'after'} ${formatMs(raw.ms)}`));
  parts.push(h('div', { class: 'meta', testid: 'raw-meta' }, meta));
  body.replaceChildren(...parts);
}

function field(name, value, key = false) {
  return h('div', { class: key ? 'key' : undefined }, h('dt', {}, name), h('dd', { testid: `sure-${name}`, title: String(value) }, String(value)));
}

function renderSure(run) {
  const card = $('#sure-card');
  const body = $('#sure-body');
  const badge = $('#sure-badge');
  const sure = run.sure;
  delete card.dataset.kind;
  if (sure.pending) {
    card.dataset.state = 'running';
    setTone(card, 'running');
    badge.textContent = 'running';
    const attempts = run.rec.attempts.length;
    body.replaceChildren(waiting(`running… ${formatMs(performance.now() - sure.started)}${attempts > 1 ? ` · attempt ${attempts}` : ''}`));
    return;
  }
  card.dataset.state = 'done';
  const attempts = run.rec.attempts.length;
  const retries = run.rec.retries;
  if (sure.configError) {
    card.dataset.kind = 'config';
    setTone(card, 'invalid');
    badge.textContent = 'bad options';
    body.replaceChildren(
      h('div', { class: 'card-title' }, 'createClient threw: no request was made'),
      monoBox(`${sure.configError.name}: ${sure.configError.message}`, 'err', 'sure-message'),
      h('p', { class: 'detail' }, 'Invalid client options throw synchronously from createClient, naming the option and the rule.'),
    );
    return;
  }
  if (sure.foreign) {
    card.dataset.kind = 'bug';
    setTone(card, 'bug');
    badge.textContent = 'NOT a surefetch error';
    body.replaceChildren(h('div', { class: 'card-title' }, 'Rejected with something outside the union: a bug in surefetch'), monoBox(String(sure.foreign?.stack ?? sure.foreign), 'err', 'sure-message'));
    return;
  }
  if (sure.ok) {
    card.dataset.kind = 'ok';
    setTone(card, 'ok');
    badge.textContent = 'success';
    const value = sure.value === undefined ? 'undefined' : typeof sure.value === 'string' ? sure.value : JSON.stringify(sure.value, null, 1);
    const byHand = run.settings.reader === 'response';
    const mojibake = value.includes('\uFFFD');
    const why = sure.value === undefined
      ? 'No body (204/205/HEAD): .json() gives undefined.'
      : byHand
        ? `You read the Response yourself: response.text() decodes UTF-8, as fetch does${mojibake ? ', so the "\uFFFD" are bytes of another charset. Use .text() or .json() to decode in the server\u2019s charset' : ''}. The idle and total deadlines still watched the body.`
        : 'Decoded in the charset the server declared (BOM first, then Content-Type, then UTF-8).';
    body.replaceChildren(
      h('div', { class: 'headline' }, h('span', { class: 'big', testid: 'sure-kind' }, 'ok'), h('span', { class: 'muted' }, byHand ? 'resolved; your code read the body' : 'resolved with the decoded value')),
      h('dl', { class: 'fields' }, field('status', sure.status ?? '—', true), field('attempts', attempts), field('elapsed', formatMs(sure.ms))),
      monoBox(value, mojibake ? 'warn' : 'ok', 'sure-value'),
      h('p', { class: 'why' }, why),
      retries ? h('p', { class: 'why' }, `After ${retries} retr${retries === 1 ? 'y' : 'ies'}: see the timeline.`) : '',
    );
    return;
  }
  const e = sure.error;
  card.dataset.kind = e.kind;
  setTone(card, e.kind);
  badge.textContent = e.kind;
  const detail = {
    timeout: e.phase,
    network: `${e.code} · ${e.phase}`,
    http: String(e.status),
    decode: e.reason,
    aborted: e.source,
    invalid: e.reason,
  }[e.kind];
  const fields = [field('kind', e.kind, true)];
  if (e.phase !== undefined) fields.push(field('phase', e.phase, true));
  if (e.code !== undefined) fields.push(field('code', e.code, true));
  if (e.reason !== undefined && e.kind !== 'aborted') fields.push(field('reason', e.reason, true));
  if (e.source !== undefined) fields.push(field('source', e.source, true));
  if (e.status !== undefined) fields.push(field('status', e.status, true));
  if (e.kind === 'timeout') fields.push(field('timeout', e.timeout === undefined ? 'undefined' : `${e.timeout} ms`));
  if (e.charset) fields.push(field('charset', e.charset));
  if (e.retryAfter !== undefined) fields.push(field('retryAfter', `${e.retryAfter} ms`));
  fields.push(field('attempts', e.attempts), field('elapsed', `${e.elapsed} ms`), field('retryable', e.retryable));
  const parts = [
    h('div', { class: 'headline' }, h('span', { class: 'big' }, detail === undefined ? e.kind : `${e.kind} · ${detail}`), h('span', { class: 'muted' }, e.name)),
    h('dl', { class: 'fields' }, fields),
    monoBox(e.message, 'err', 'sure-message'),
  ];
  if (e.kind === 'http' && e.body !== undefined) parts.push(h('div', { class: 'meta' }, 'error.body (decoded)'), monoBox(typeof e.body === 'string' ? e.body : JSON.stringify(e.body), '', 'sure-body'));
  if (e.kind === 'decode' && e.snippet) parts.push(h('div', { class: 'meta' }, `error.snippet${e.contentType ? ` · ${e.contentType}` : ''}`), monoBox(e.snippet, '', 'sure-snippet'));
  parts.push(h('p', { class: 'why', testid: 'sure-why' }, explainFailure(e)));
  const retry = explainRetries(e, { retries, limit: run.settings.retry.limit });
  if (retry) parts.push(h('p', { class: 'why' }, retry));
  body.replaceChildren(...parts);
}

function renderEvents(run) {
  const list = $('#events');
  const events = run.rec.events;
  $('#events-count').textContent = `(${events.length})`;
  if (list.childElementCount === events.length && list.dataset.run === String(run.no)) return;
  list.dataset.run = String(run.no);
  list.replaceChildren(
    ...events.map((event) =>
      h('li', { class: `ev-${event.type}` },
        h('span', { class: 't' }, `+${event.t.toFixed(1)} ms`),
        h('span', { class: 'ty' }, event.type === 'page' ? 'page' : `on.${event.type}`),
        event.attempt !== undefined ? `attempt ${event.attempt} · ` : '',
        event.detail ?? '',
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

function outcomeOf(run) {
  const s = run.sure;
  if (s.configError) return { tone: 'invalid', text: 'bad options' };
  if (s.foreign) return { tone: 'bug', text: 'not in the union' };
  if (s.ok) return { tone: 'ok', text: `ok${s.status ? ` ${s.status}` : ''}` };
  return { tone: s.error.kind, text: short(s.error) };
}

function settingsSummary(settings) {
  const t = settings.timeout;
  const parts = [];
  for (const name of ['total', 'headers', 'idle', 'attempt']) if (t[name] !== false) parts.push(`${name} ${t[name]}`);
  parts.push(`retry ${settings.retry.limit}`);
  parts.push(READERS[settings.reader].call.replace('then ', ''));
  if (settings.hedge) parts.push(`hedge ${settings.hedge.delay}`);
  return parts.join(' · ');
}

function addHistory(run) {
  runs.unshift(run);
  runs.length = Math.min(runs.length, 12);
  $('#history-panel').hidden = false;
  const list = $('#history');
  list.replaceChildren(
    ...runs.map((item) => {
      const outcome = outcomeOf(item);
      return h('li', { 'data-no': item.no, testid: 'history-item', class: `tone-${outcome.tone}${item === shown ? ' current' : ''}`, title: 'show this run again', onclick: () => show(item) },
        h('span', { class: 'no' }, `#${item.no}`),
        h('span', { class: 'name' }, item.name, h('span', { class: 'sub', title: settingsSummary(item.settings) }, settingsSummary(item.settings))),
        h('span', { class: 'outcome' }, outcome.text),
        h('span', { class: 'num' }, `${item.rec.attempts.length} att.`),
        h('span', { class: 'num' }, formatMs(item.sure.ms ?? 0)),
      );
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

async function start() {
  try {
    config = await (await fetch('/config.json', { cache: 'no-store' })).json();
    $('#fault-url').textContent = config.faultUrl.replace(/^https?:\/\//, '');
    $('#server-dot').classList.add('up');
  } catch (error) {
    $('#fault-url').textContent = 'unreachable: is `npm run playground` still running?';
    $('#server-dot').classList.add('down');
    throw error;
  }
  buildFaultList();
  applyPreset(PRESETS.demo);
  form.querySelector('input[name="reader"][value="json"]').checked = true;
  updateReaderNote();

  for (const name of ['total', 'headers', 'idle', 'attempt', 'hedge', 'max']) {
    input(`${name}-on`).addEventListener('change', () => {
      syncSwitch(name);
      if (input(`${name}-on`).checked) input(name).focus();
    });
  }
  for (const radio of form.querySelectorAll('input[name="reader"]')) radio.addEventListener('change', updateReaderNote);
  for (const button of document.querySelectorAll('[data-preset]')) {
    button.addEventListener('click', () => {
      applyPreset(PRESETS[button.dataset.preset]);
      for (const field of form.querySelectorAll('input[type="number"]')) flash(field);
    });
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send();
  });
  $('#stop').addEventListener('click', () => current?.controller.abort(new Error('stopped from the page')));
  document.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
      event.preventDefault();
      send();
    }
  });

  // Segment labels are fitted to the track's width in px: draw again when it changes.
  window.addEventListener('resize', () => {
    if (shown) renderTimeline($('#timeline'), shown.rec);
  });

  const fromHash = decodeURIComponent(location.hash.slice(1));
  select(FAULTS.has(fromHash) ? fromHash : 'stall-mid-body');
  document.body.dataset.state = 'ready';
}

start();
