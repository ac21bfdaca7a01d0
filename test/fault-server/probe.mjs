#!/usr/bin/env node
// Shows what the running Node's own `fetch` throws for each fault of the fault server: the error,
// its cause and its cause's cause (as `name: message [code]`, plus the codes inside an
// AggregateError), and whether it failed before the headers (`fetch()` rejected) or while
// reading the body (`res.text()`/`res.json()` rejected).
//
//   node test/fault-server/probe.mjs           # a table
//   node test/fault-server/probe.mjs --json    # one JSON array, for scripts
//   "$(node test/support/ensure-node.mjs 22)" test/fault-server/probe.mjs
//
// Stalls are cut by AbortSignal.timeout(2000); every other probe by a 10 s safety timeout.
// It starts and closes its own server and exits by itself (no process.exit).

import { startFaultServer } from './server.js';

/**
 * { name, url(fs) | path, read: 'text' | 'json' (default 'text'), timeout (ms, default 10000) }
 * The name is what the report shows; the flaky ids are unique so each probe hits a failure.
 */
const PROBES = [
  { name: 'refused (127.0.0.1)', url: (fs) => fs.refusedUrl },
  { name: 'refused (localhost)', url: (fs) => fs.refusedUrl.replace('127.0.0.1', 'localhost') },
  { name: 'tls self-signed', url: (fs) => fs.tlsUrl },
  { name: 'reset-before-headers', path: '/reset-before-headers' },
  { name: 'close-before-headers', path: '/close-before-headers' },
  { name: 'flaky mode=reset', path: '/flaky?id=probe-reset&mode=reset' },
  { name: 'reset-mid-body cl', path: '/reset-mid-body?framing=cl' },
  { name: 'reset-mid-body chunked', path: '/reset-mid-body?framing=chunked' },
  { name: 'flaky mode=reset-body', path: '/flaky?id=probe-reset-body&mode=reset-body' },
  { name: 'close-mid-body cl', path: '/close-mid-body?framing=cl' },
  { name: 'close-mid-body chunked', path: '/close-mid-body?framing=chunked' },
  { name: 'stall-before-headers', path: '/stall-before-headers', timeout: 2000 },
  { name: 'stall-mid-body cl', path: '/stall-mid-body?framing=cl', timeout: 2000 },
  { name: 'stall-mid-body chunked', path: '/stall-mid-body?framing=chunked', timeout: 2000 },
  { name: 'trickle, timeout 300ms', path: '/trickle?every=100&chunks=10', timeout: 300 },
  { name: 'bad-chunk', path: '/bad-chunk' },
  { name: 'malformed-status', path: '/malformed-status' },
  { name: 'bad-gzip', path: '/bad-gzip' },
  { name: 'bad-gzip partial=1', path: '/bad-gzip?partial=1' },
  { name: 'redirect-loop', path: '/redirect-loop' },
  { name: 'gzip-bomb mb=16', path: '/gzip-bomb?mb=16' },
  { name: 'bad-json .json()', path: '/bad-json', read: 'json' },
  { name: 'html-as-json .json()', path: '/html-as-json', read: 'json' },
  { name: 'empty .json()', path: '/empty', read: 'json' },
  { name: 'empty-chunked .json()', path: '/empty-chunked', read: 'json' },
];

/** Runs one probe: { name, phase: 'headers' | 'body' | 'none', chain: string[], result? }. */
async function probe(fs, { name, url, path, read = 'text', timeout = 10_000 }) {
  const target = url ? url(fs) : fs.url + path;
  const signal = AbortSignal.timeout(timeout);
  let res;
  try {
    res = await fetch(target, { signal });
  } catch (error) {
    return { name, phase: 'headers', chain: describeChain(error) };
  }
  try {
    const body = await res[read]();
    const size = typeof body === 'string' ? `${body.length} chars` : 'parsed';
    return { name, phase: 'none', chain: [], result: `no error: ${res.status}, ${size}` };
  } catch (error) {
    return { name, phase: 'body', chain: describeChain(error) };
  }
}

/** ['TypeError: fetch failed', 'Error: read ECONNRESET [ECONNRESET]', …] down to cause.cause. */
function describeChain(error) {
  const chain = [];
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 3; e = e.cause, depth++) {
    chain.push(describe(e));
  }
  return chain;
}

/** `name: message [code]` (string codes only: DOMException's numeric legacy codes are noise). */
function describe(e) {
  if (typeof e !== 'object') return `(${typeof e}) ${String(e)}`;
  let text = `${e.name}: ${e.message}`;
  if (typeof e.code === 'string') text += ` [${e.code}]`;
  if (Array.isArray(e.errors)) text += ` errors: [${e.errors.map((inner) => inner?.code ?? inner?.name).join(', ')}]`;
  return text;
}

function printTable(results) {
  const width = Math.max(...results.map((r) => r.name.length));
  console.log(`Node ${process.version}: what fetch throws for each fault (error ← cause ← cause.cause)\n`);
  for (const r of results) {
    const what = r.phase === 'none' ? r.result : r.chain.join('  ←  ');
    console.log(`${r.name.padEnd(width)}  ${r.phase.padEnd(7)}  ${what}`);
  }
}

const fs = await startFaultServer();
const results = [];
try {
  for (const p of PROBES) results.push(await probe(fs, p));
} finally {
  await fs.close();
}
if (process.argv.includes('--json')) console.log(JSON.stringify({ node: process.version, results }, null, 2));
else printTable(results);
