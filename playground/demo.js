// `npm run demo`: every fault of the fault-injection server, asked once with raw `fetch` and once
// with surefetch, side by side. Read it top to bottom to learn the API:
//
//   const api = createClient({ timeout: { total, headers, idle }, retry });
//   const data = await api.get(url).json();        // or .text(), or `await api.get(url)` for the Response
//   } catch (error) { if (isFetchError(error)) error.kind /* 'network' | 'timeout' | 'http' | … */ }
//
// Plain ESM JavaScript, Node 20+. It imports the BUILT package (dist/), so run `npm run build` first
// (`npm run demo` does). Everything listens on 127.0.0.1 and everything is closed at the end: the
// process exits by itself. Exit code 1 only if surefetch rejected with something that is not a
// surefetch error (a bug).

import { createClient, isFetchError } from '../dist/index.js';
import { charsets } from '../test/fault-server/charsets.js';
import { startFaultServer } from '../test/fault-server/server.js';

/** Raw fetch has no deadlines of its own: this signal is what ends its stalls. */
const RAW_TIMEOUT = 3000;

// ---------------------------------------------------------------------------------------------
// The faults: one row each. `path` is on the fault server (`url` for a full URL); `read` is how the
// body is read: 'json' (.json()), 'text' (.text()) or 'response' (the Response only, body unread).
// Optional: `expect` (the correct value, to tell mojibake from text), `show` (the part of the value
// to print), `options` (per-request surefetch options), `rawPath` (a separate path for raw fetch).
// ---------------------------------------------------------------------------------------------

const greeting = (value) => value?.greeting;

/** @param {{ url: string, tlsUrl: string, refusedUrl: string }} fs */
function faultRows(fs) {
  return [
    { name: 'connection refused', url: fs.refusedUrl, read: 'response' },
    { name: 'reset before headers', path: '/reset-before-headers', read: 'response' },
    { name: 'close before headers', path: '/close-before-headers', read: 'response' },
    { name: 'reset mid-body (cl)', path: '/reset-mid-body?framing=cl', read: 'json' },
    { name: 'close mid-body (chunked)', path: '/close-mid-body?framing=chunked', read: 'json' },
    { name: 'stall before headers', path: '/stall-before-headers', read: 'response' },
    { name: 'stall mid-body', path: '/stall-mid-body', read: 'json' },
    { name: 'trickle slower than idle', path: '/trickle?every=700&chunks=3&size=10', read: 'text' },
    { name: 'bad chunk size', path: '/bad-chunk', read: 'text' },
    { name: 'bad gzip', path: '/bad-gzip', read: 'json' },
    { name: 'malformed status line', path: '/malformed-status', read: 'response' },
    { name: 'redirect loop', path: '/redirect-loop', read: 'response' },
    { name: 'TLS self-signed', url: `${fs.tlsUrl}/ok`, read: 'json' },
    { name: '429 + Retry-After', path: '/429?retryAfter=1', read: 'json' },
    { name: '503 + Retry-After', path: '/503?retryAfter=1', read: 'json' },
    { name: 'HTML served as JSON', path: '/html-as-json', read: 'json' },
    { name: 'truncated JSON', path: '/bad-json', read: 'json' },
    { name: 'empty 200 body', path: '/empty', read: 'json' },
    {
      name: 'body > maxBodyBytes',
      path: '/too-large?n=200000&cl=1',
      read: 'json',
      options: { maxBodyBytes: 100_000 },
      show: (value) => `${JSON.stringify(value).length} bytes parsed`,
    },
    {
      name: 'GBK JSON',
      path: '/charset/gbk?as=json',
      read: 'json',
      expect: charsets.gbk.json.greeting,
      show: greeting,
    },
    { name: 'Shift_JIS text', path: '/charset/shift_jis?as=text', read: 'text', expect: charsets.shift_jis.text },
    { name: 'UTF-16LE with BOM', path: '/charset/utf-16le-bom?as=text', read: 'text', expect: charsets['utf-16le-bom'].text },
    {
      name: 'invalid UTF-8 in JSON',
      path: '/charset/invalid-utf-8?as=json',
      read: 'json',
      show: greeting,
    },
    {
      name: 'unknown charset label',
      path: '/charset/wrong-label?as=text',
      read: 'text',
      expect: charsets['wrong-label'].text,
    },
    {
      // Two 503s, then 200: with retries on, surefetch recovers. Raw fetch gets its own counter
      // (another id), so it does not use up surefetch's failures.
      name: 'flaky ×2, then ok (retry)',
      path: '/flaky?id=demo&fail=2&status=503',
      rawPath: '/flaky?id=demo-raw&fail=2&status=503',
      read: 'json',
      options: { retry: { limit: 2, delay: () => 50 } },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Raw fetch: what a plain `fetch` gives. A resolved value is judged 'wrong' when it is an HTTP
// error status, contains U+FFFD, or differs from the row's `expect`.
// ---------------------------------------------------------------------------------------------

async function withRawFetch(row, url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(RAW_TIMEOUT) });
    const value = await readBody(response, row.read);
    const shown = display(row, value);
    if (!response.ok) return { verdict: 'wrong', text: `HTTP ${response.status}, no error: ${shown}` };
    if (row.expect !== undefined && shown !== row.expect) return { verdict: 'wrong', text: `mojibake: ${shown}` };
    if (shown.includes('\uFFFD')) return { verdict: 'wrong', text: `U+FFFD, no error: ${shown}` };
    return { verdict: 'ok', text: `ok: ${shown}` };
  } catch (error) {
    return { verdict: 'error', text: describeRawError(error) };
  }
}

function readBody(response, read) {
  if (read === 'json') return response.json();
  if (read === 'text') return response.text();
  response.body?.cancel().catch(() => {}); // 'response': the status is enough, free the connection
  return response;
}

/** `TypeError: fetch failed ← ECONNREFUSED`: the message, then the codes hidden in `cause`. */
function describeRawError(error) {
  if (error?.name === 'TimeoutError') return `hung: aborted by our ${RAW_TIMEOUT} ms signal`;
  const parts = [`${error?.name}: ${error?.message}`];
  for (let cause = error?.cause; cause; cause = cause.cause) {
    // A code when there is one (ECONNRESET), else a telling name (HTTPParserError), else the message.
    parts.push(cause.code ?? (cause.name && cause.name !== 'Error' ? cause.name : cause.message || String(cause)));
    if (cause instanceof AggregateError) parts.push(...new Set(cause.errors.map((e) => e.code)));
  }
  return parts.join(' ← ');
}

// ---------------------------------------------------------------------------------------------
// surefetch: the same request. A failure is always one of the typed errors (isFetchError), with
// fields that say what happened; anything else is a bug.
// ---------------------------------------------------------------------------------------------

async function withSurefetch(api, row, url) {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const request = api.get(url, row.options);
    // .json()/.text() read and decode the body (deadlines and retries cover the read too);
    // awaiting the request itself gives the Response once the headers passed.
    const value = row.read === 'json' ? await request.json() : row.read === 'text' ? await request.text() : await request;
    // A Response whose body you will not read: cancel the body, so the request can finish.
    if (value instanceof Response) await value.body?.cancel();
    return { verdict: 'ok', text: `ok: ${display(row, value)}`, ms: elapsed() };
  } catch (error) {
    if (!isFetchError(error)) return { verdict: 'bug', text: `NOT A SUREFETCH ERROR: ${error}`, ms: elapsed(), error };
    return { verdict: 'typed', text: describeFetchError(error), ms: elapsed() };
  }
}

/** `kind/phase/code` and friends: the fields of each class of the union. */
function describeFetchError(error) {
  switch (error.kind) {
    case 'network':
      return `network/${error.phase}/${error.code}`;
    case 'timeout':
      // `timeout` is the limit that fired; undefined when the runtime's own timer fired.
      return `timeout/${error.phase} (${error.timeout === undefined ? "runtime's timer" : `${error.timeout} ms`})`;
    case 'http': {
      const retryAfter = error.headers.get('retry-after');
      return `http ${error.status}${retryAfter ? ` (Retry-After: ${retryAfter})` : ''}`;
    }
    case 'decode':
      return `decode/${error.reason}${error.reason === 'charset' && error.charset ? ` (${error.charset})` : ''}`;
    case 'aborted':
      return `aborted/${error.source}`;
    case 'invalid':
      return `invalid/${error.reason}`;
    default:
      return error.kind; // 'circuit-open'
  }
}

/** What to print for a resolved value: a Response's status, a string, or JSON. */
function display(row, value) {
  if (value instanceof Response) return `HTTP ${value.status}`;
  const shown = row.show ? row.show(value) : value;
  return typeof shown === 'string' ? shown : JSON.stringify(shown);
}

// ---------------------------------------------------------------------------------------------
// The table: fixed-width columns; East Asian wide characters count as two cells; control
// characters are shown as their Unicode pictures (␀). Colours only on a TTY without NO_COLOR.
// ---------------------------------------------------------------------------------------------

const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code, text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
const colors = { error: 31, wrong: 33, ok: 32, typed: 32, bug: '1;41' };
const columns = [
  { title: 'fault', width: 26 },
  { title: 'raw fetch', width: 46 },
  { title: 'surefetch', width: 34 },
  { title: 'ms', width: 5, right: true },
];

const isWide = (cp) =>
  (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
  (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
  (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd);

/** Fits `text` in exactly `width` terminal cells: truncated with '…', then padded. */
function cell(text, width, right = false) {
  let out = '';
  let used = 0;
  const chars = [...String(text).replace(/[\x00-\x1f\x7f]/g, (c) => String.fromCodePoint(c === '\x7f' ? 0x2421 : 0x2400 + c.charCodeAt(0)))];
  for (const [i, char] of chars.entries()) {
    const w = isWide(char.codePointAt(0)) ? 2 : 1;
    const last = i === chars.length - 1;
    if (used + w > width - (last ? 0 : 1)) {
      out += '…';
      used += 1;
      break;
    }
    out += char;
    used += w;
  }
  const pad = ' '.repeat(Math.max(0, width - used));
  return right ? pad + out : out + pad;
}

function printTable(results, seconds) {
  const line = (cells) => cells.join(' │ ');
  console.log(paint(1, `surefetch vs raw fetch: ${results.length} faults from the fault server (${seconds} s)`));
  console.log(line(columns.map((c) => paint(1, cell(c.title, c.width, c.right)))));
  console.log(columns.map((c) => '─'.repeat(c.width)).join('─┼─'));
  for (const { row, raw, sure } of results) {
    console.log(line([
      cell(row.name, columns[0].width),
      paint(colors[raw.verdict], cell(raw.text, columns[1].width)),
      paint(colors[sure.verdict], cell(sure.text, columns[2].width)),
      cell(sure.ms, columns[3].width, true),
    ]));
  }
  const legend = [
    `raw fetch  "TypeError: … ← CODE" = the thrown error, then the codes hidden in its cause chain;`,
    `           "mojibake"/"U+FFFD" = text decoded wrongly, no error; "HTTP 503, no error" = an error status read as data;`,
    `           "hung" = no deadline fired, only our own AbortSignal.timeout(${RAW_TIMEOUT}) ended it.`,
    `surefetch  kind/phase/code of the typed error (isFetchError), or the decoded value; ms = the surefetch call,`,
    `           with timeout { total: 5000, headers: 1000, idle: 500 } and retry: 0 (the retry row: limit 2).`,
  ];
  console.log(paint(2, legend.join('\n')));
}

function printSummary(results) {
  const count = (side, verdict) => results.filter((r) => r[side].verdict === verdict).length;
  const untyped = count('sure', 'bug');
  console.log(
    `${results.length} faults. raw fetch: ${count('raw', 'error')} raw/cryptic errors + ${count('raw', 'wrong')} wrong values, ` +
      `${count('raw', 'ok')} ok. surefetch: ${count('sure', 'typed')} typed errors + ${count('sure', 'ok')} correct values, ` +
      (untyped ? paint(colors.bug, `${untyped} UNTYPED REJECTIONS (a bug!)`) : '0 untyped rejections.'),
  );
}

// ---------------------------------------------------------------------------------------------
// Main: start the server, run every row (raw fetch and surefetch side by side), print, close.
// ---------------------------------------------------------------------------------------------

const fs = await startFaultServer({ host: '127.0.0.1' });
// One client for the whole demo. Retries are off so each row is one attempt (the last row turns
// them on for itself through its per-request `options`).
const api = createClient({ timeout: { total: 5000, headers: 1000, idle: 500 }, retry: 0 });

const started = performance.now();
const results = [];
try {
  for (const row of faultRows(fs)) {
    const url = (path) => row.url ?? `${fs.url}${path}`;
    const [raw, sure] = await Promise.all([withRawFetch(row, url(row.rawPath ?? row.path)), withSurefetch(api, row, url(row.path))]);
    results.push({ row, raw, sure });
  }
} finally {
  // close() aborts anything still in flight and resolves when all settled; fs.close() destroys
  // every server socket. After both, nothing is left to keep Node running.
  await api.close();
  await fs.close();
}

printTable(results, ((performance.now() - started) / 1000).toFixed(1));
printSummary(results);
for (const { row, sure } of results) if (sure.error) console.error(`\n${row.name}:`, sure.error);
if (results.some((r) => r.sure.verdict === 'bug')) process.exitCode = 1;
