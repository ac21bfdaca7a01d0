// The fault-injection server: an HTTP server whose routes each produce one way a response can go
// wrong (a status, a reset, a stall, a broken encoding, a charset…), for surefetch's tests,
// playground and benchmarks. Plain ESM JavaScript with no dependency, so anything can import it.
//
//   import { startFaultServer } from './test/fault-server/server.js';
//   const fs = await startFaultServer();
//   await fetch(`${fs.url}/reset-mid-body?framing=chunked`);
//   await fs.close();
//
// Standalone: `node test/fault-server/server.js` prints the URLs and the routes, and runs until
// SIGINT/SIGTERM (HOST, PORT and TLS_PORT environment variables pick the addresses).
//
// How the byte-level faults work: every route lives on the one node:http server (`fs.url`).
// Routes that need bytes node:http refuses to write (resets, truncated bodies, a malformed status
// line, a bad chunk) "hijack" the request: they read the request, never touch the
// ServerResponse, and write to / reset the TCP socket directly. So there is no separate raw
// server: `fs.rawUrl` is the same origin as `fs.url`, kept for callers that want to say "raw".
//
// Every response carries CORS headers that reflect the request's Origin (so a browser test sees
// the fault itself, not a CORS failure), except /no-cors. OPTIONS preflights get 204.
// GET /__stats?id=X returns the counters as JSON (for tests running where they cannot call
// fs.hits(), e.g. in a browser); it is the one request that is not counted.
//
// Bounded by design: every numeric query parameter has a range (out of range -> 400), every
// timer belongs to a request and is cleared when that request's socket closes, and close()
// destroys every socket, stalled ones included.

import { readFileSync, realpathSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip, gzipSync } from 'node:zlib';
import { CHARSET_NAMES, charsets, contentTypeOf } from './charsets.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Streamed bodies are written in chunks of this size. */
const CHUNK_SIZE = 64 * KiB;
/** Gap between "headers + first bytes" and the fault, so that a client has its headers first. */
const FAULT_DELAY_MS = 20;
/** The largest request body /echo reads. */
const ECHO_LIMIT = 16 * MiB;

const TLS_KEY = readFileSync(new URL('./cert/key.pem', import.meta.url), 'utf8');
/** The self-signed certificate of the TLS listener (PEM): pass it as `ca` to trust it. */
export const TLS_CERT = readFileSync(new URL('./cert/cert.pem', import.meta.url), 'utf8');

const HTTP_OPTIONS = {
  // No limit on how long a request upload may take (slow-upload tests); the stalls are ours.
  requestTimeout: 0,
};

// ---------------------------------------------------------------------------------------------
// Starting and stopping
// ---------------------------------------------------------------------------------------------

/**
 * Starts the HTTP and TLS listeners and reserves a refused port. See server.d.ts for the API.
 * @param {{ host?: string, port?: number, tlsPort?: number, cors?: boolean }} [options]
 */
export async function startFaultServer(options = {}) {
  const { host = '127.0.0.1', port = 0, tlsPort = 0, cors = true } = options;
  const state = createState(cors);

  const httpServer = http.createServer(HTTP_OPTIONS, (req, res) => handleRequest(state, req, res, findRoute));
  const tlsServer = https.createServer({ ...HTTP_OPTIONS, key: TLS_KEY, cert: TLS_CERT }, (req, res) =>
    handleRequest(state, req, res, () => ({ route: TLS_ROUTE, params: {} })),
  );
  const servers = [httpServer, tlsServer];
  for (const server of servers) trackSockets(state, server);

  try {
    await Promise.all([listen(httpServer, port, host), listen(tlsServer, tlsPort, host)]);
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }
  const refusedPort = await reserveClosedPort(host);

  const origin = (scheme, p) => `${scheme}://${host.includes(':') ? `[${host}]` : host}:${p}`;
  const url = origin('http', httpServer.address().port);
  let closing;

  const handle = {
    url,
    rawUrl: url,
    tlsUrl: origin('https', tlsServer.address().port),
    refusedUrl: `${origin('http', refusedPort)}/`,
    tlsCert: TLS_CERT,
    hits: (id) => state.hits.get(String(id)) ?? 0,
    get requests() {
      return state.requests;
    },
    get inFlight() {
      return state.inFlight;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    resetStats() {
      state.requests = 0;
      state.hits.clear();
      state.maxInFlight = state.inFlight; // inFlight is a live gauge: it is never reset
    },
    openSockets: () => state.sockets.size,
    close() {
      closing ??= closeAll(state, servers);
      return closing;
    },
  };
  if (Symbol.asyncDispose) handle[Symbol.asyncDispose] = handle.close;
  return handle;
}

function createState(cors) {
  return {
    cors,
    requests: 0,
    inFlight: 0,
    maxInFlight: 0,
    hits: new Map(), // ?id= value -> requests seen (preflights excluded)
    groups: new Map(), // ?group= value -> {inFlight, maxInFlight}: concurrency of one test's requests
    sockets: new Set(), // open client sockets of both listeners
    timers: new Set(), // pending timers of all requests, cleared on close
  };
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Binds a free port and closes it again: connecting to it then gives ECONNREFUSED. */
async function reserveClosedPort(host) {
  const server = net.createServer();
  await listen(server, 0, host);
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Records every TCP connection. For the TLS listener these are the raw sockets under the TLS
 * layer; destroying them tears the TLS socket down too.
 */
function trackSockets(state, server) {
  server.on('connection', (socket) => {
    state.sockets.add(socket);
    socket.once('close', () => state.sockets.delete(socket));
  });
}

/**
 * Clears every timer, destroys every socket (stalled ones too), and resolves once the listeners
 * and every socket have emitted 'close' (so openSockets() is 0 afterwards).
 */
async function closeAll(state, servers) {
  for (const timer of state.timers) clearTimeout(timer);
  state.timers.clear();
  const closed = [
    ...servers.map((server) => new Promise((resolve) => server.close(() => resolve()))),
    ...[...state.sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve))),
  ];
  for (const socket of state.sockets) socket.destroy();
  for (const server of servers) server.closeAllConnections();
  await Promise.all(closed);
}

// ---------------------------------------------------------------------------------------------
// Request handling: counting, CORS, routing
// ---------------------------------------------------------------------------------------------

/** A bad query parameter: answered with 400 and the message. */
class ParamError extends Error {}

function handleRequest(state, req, res, pickRoute) {
  const url = new URL(req.url ?? '/', 'http://fault-server.invalid');
  if (url.pathname === STATS_PATH) return sendStats(state, req, res, url.searchParams.get('id'), url.searchParams.get('group'));
  const ctx = createContext(state, req, res, url);

  if (req.method === 'OPTIONS' && ctx.cors) return preflight(ctx);
  if (ctx.cors) for (const [name, value] of Object.entries(corsHeaders(req))) res.setHeader(name, value);

  try {
    const match = pickRoute(url.pathname);
    if (!match) return sendJson(res, 404, { error: `no route for ${url.pathname}`, routes: ROUTES.map((r) => r.path) });
    const result = match.route.handle(ctx, match.params);
    if (result instanceof Promise) result.catch((error) => failRequest(ctx, error));
  } catch (error) {
    failRequest(ctx, error);
  }
}

/**
 * GET /__stats?id=X&group=G -> {"hits","requests","inFlight","maxInFlight","openSockets",
 * "groupInFlight","groupMaxInFlight"} (a group is every request carrying ?group=G): the counters
 * over HTTP, for tests that cannot share memory with the server (a browser, another process).
 * It is not counted itself, so reading the counters never changes them.
 */
const STATS_PATH = '/__stats';

function sendStats(state, req, res, id, groupName) {
  const headers = state.cors ? corsHeaders(req) : {};
  const group = groupName === null ? undefined : state.groups.get(groupName);
  sendJson(res, 200, {
    groupInFlight: group?.inFlight ?? 0,
    groupMaxInFlight: group?.maxInFlight ?? 0,
    hits: id === null ? 0 : (state.hits.get(id) ?? 0),
    requests: state.requests,
    inFlight: state.inFlight,
    maxInFlight: state.maxInFlight,
    openSockets: state.sockets.size,
  }, headers);
}

/**
 * Counts the request and builds what handlers receive:
 * { state, req, res, query, cors, hits (for this request's ?id=), later(ms, fn) }.
 */
function createContext(state, req, res, url) {
  const id = url.searchParams.get('id');
  state.requests++;
  state.inFlight++;
  state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
  if (id !== null && req.method !== 'OPTIONS') state.hits.set(id, (state.hits.get(id) ?? 0) + 1);
  const groupName = req.method === 'OPTIONS' ? null : url.searchParams.get('group');
  let group;
  if (groupName !== null) {
    group = state.groups.get(groupName) ?? { inFlight: 0, maxInFlight: 0 };
    state.groups.set(groupName, group);
    group.inFlight++;
    group.maxInFlight = Math.max(group.maxInFlight, group.inFlight);
  }

  // Timers of this request die with its response (normal end, client gone, or close()).
  const timers = new Set();
  let closed = false;
  res.once('close', () => {
    closed = true;
    state.inFlight--;
    if (group) group.inFlight--;
    for (const timer of timers) {
      clearTimeout(timer);
      state.timers.delete(timer);
    }
  });

  return {
    state,
    req,
    res,
    query: url.searchParams,
    cors: state.cors && url.pathname !== '/no-cors',
    hits: id === null ? 0 : (state.hits.get(id) ?? 0),
    /** setTimeout bound to this request: never fires after the response closed. */
    later(ms, fn) {
      if (closed) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        state.timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
      state.timers.add(timer);
    },
  };
}

function failRequest(ctx, error) {
  const { res } = ctx;
  if (res.headersSent || res.destroyed) return void res.destroy();
  const status = error instanceof ParamError ? 400 : 500;
  sendJson(res, status, { error: error instanceof Error ? error.message : String(error) });
}

/** CORS response headers: reflect the Origin, allow credentials, expose every header. */
function corsHeaders(req) {
  const origin = req.headers.origin;
  return {
    'Access-Control-Allow-Origin': origin ?? '*',
    ...(origin ? { 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' } : {}),
    // `*` is not a wildcard for credentialed requests, hence the explicit names after it.
    'Access-Control-Expose-Headers': '*, Retry-After, Content-Type, Content-Length, Content-Encoding, Location',
  };
}

/** Answers a preflight with 204, allowing whatever method and headers were asked for. */
function preflight({ req, res }) {
  res.writeHead(204, {
    ...corsHeaders(req),
    'Access-Control-Allow-Methods': req.headers['access-control-request-method'] ?? 'GET, POST, PUT, PATCH, DELETE',
    'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
  });
  res.end();
}

// ---------------------------------------------------------------------------------------------
// Response helpers
// ---------------------------------------------------------------------------------------------

function sendBody(res, status, contentType, body, headers = {}) {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.length, ...headers });
  res.end(bytes);
}

function sendJson(res, status, value, headers = {}) {
  sendBody(res, status, 'application/json', JSON.stringify(value), headers);
}

/** Streams an iterable of Buffers into the response, with backpressure; stops if the client leaves. */
function stream(res, chunks) {
  pipeline(Readable.from(chunks, { objectMode: false, highWaterMark: CHUNK_SIZE }), res).catch(() => {});
}

/** An integer query parameter in [min, max]; `fallback` when absent; ParamError otherwise. */
function intParam(query, name, fallback, min, max) {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ParamError(`?${name}= must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** One of `allowed` (the first is the default). */
function enumParam(query, name, allowed) {
  const raw = query.get(name) ?? allowed[0];
  if (!allowed.includes(raw)) throw new ParamError(`?${name}= must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw;
}

/**
 * `?retryAfter=S` -> `Retry-After: S` (sent verbatim, so invalid values can be tested too);
 * with `&retryAfterDate=1` (or `imf`, `rfc850`, `asctime`) the header is the HTTP-date S seconds
 * from now in that format instead; `&retryHeader=NAME` sends it under another name (RateLimit-Reset, ...).
 */
function retryAfterHeaders(query) {
  const value = query.get('retryAfter');
  if (value === null) return {};
  const name = query.get('retryHeader') ?? 'Retry-After';
  const format = query.get('retryAfterDate');
  if (format === null) return { [name]: value };
  const seconds = Number(value);
  if (!Number.isFinite(seconds)) throw new ParamError(`?retryAfter= must be a number with retryAfterDate`);
  // HTTP-dates have whole seconds: round up so the client never waits less than asked.
  const at = new Date(Math.ceil((Date.now() + seconds * 1000) / 1000) * 1000);
  return { [name]: httpDate(at, enumParam(query, 'retryAfterDate', ['1', 'imf', 'rfc850', 'asctime'])) };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An HTTP-date in one of its three formats (RFC 9110 5.6.7), always GMT. */
export function httpDate(date, format = 'imf') {
  const two = (n) => String(n).padStart(2, '0');
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  const day = date.getUTCDate();
  const month = MONTHS[date.getUTCMonth()];
  if (format === 'rfc850') return `${LONG_DAYS[date.getUTCDay()]}, ${two(day)}-${month}-${two(date.getUTCFullYear() % 100)} ${time} GMT`;
  if (format === 'asctime') return `${DAYS[date.getUTCDay()]} ${month} ${String(day).padStart(2, ' ')} ${time} ${date.getUTCFullYear()}`;
  return date.toUTCString();
}

// ---------------------------------------------------------------------------------------------
// Raw socket faults (see "hijack" at the top of the file)
// ---------------------------------------------------------------------------------------------

/** Reads the whole request, then hands its socket to `fn`; node:http writes nothing for it. */
function hijack({ req }, fn) {
  const run = () => {
    if (!req.socket.destroyed) fn(req.socket);
  };
  req.resume();
  if (req.readableEnded) run();
  else req.once('end', run);
}

/** The bytes of a response head: status line, the CORS headers when due, `headers`, blank line. */
function rawHead(ctx, statusLine, headers) {
  const all = { ...(ctx.cors ? corsHeaders(ctx.req) : {}), ...headers };
  let head = `${statusLine}\r\n`;
  for (const [name, value] of Object.entries(all)) head += `${name}: ${value}\r\n`;
  return `${head}\r\n`;
}

/** Ends a hijacked socket: 'reset' sends a TCP RST (client: ECONNRESET), 'close' a graceful FIN. */
function endSocket(socket, ending) {
  if (socket.destroyed) return;
  if (ending === 'reset') socket.resetAndDestroy();
  else socket.end();
}

/**
 * 200 application/json whose body never completes: the head and the first `sent` bytes of
 * `body` are written, then after FAULT_DELAY_MS the socket ends as `ending` says (`stall`: never).
 * framing 'cl': Content-Length is the full body length, larger than what is sent.
 * framing 'chunked': one complete chunk, then a chunk whose size line promises more than follows,
 * and never the terminating 0-chunk.
 */
function partialBody(ctx, { framing, ending, body = PARTIAL_BODY, sent = 100, split = false }) {
  hijack(ctx, (socket) => {
    const chunked = framing === 'chunked';
    const head = rawHead(ctx, 'HTTP/1.1 200 OK', {
      'Content-Type': 'application/json',
      ...(chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': body.length }),
    });
    const first = body.subarray(0, sent);
    const rest = body.subarray(sent);
    const payload = chunked
      ? [chunk(first), Buffer.from(`${rest.length.toString(16)}\r\n`), rest.subarray(0, 8)]
      : [first];
    if (!split) {
      socket.write(Buffer.concat([Buffer.from(head), ...payload]));
      if (ending !== 'stall') ctx.later(FAULT_DELAY_MS, () => endSocket(socket, ending));
      return;
    }
    // Split over time: the head, then each piece of the body, then the fault, FAULT_DELAY_MS apart.
    const steps = [Buffer.from(head), ...payload];
    const next = () => {
      if (socket.destroyed) return;
      const step = steps.shift();
      if (step) {
        socket.write(step);
        ctx.later(FAULT_DELAY_MS, next);
      } else if (ending !== 'stall') {
        endSocket(socket, ending);
      }
    };
    next();
  });
}

/** The head cut short: the status line and part of a header, then the fault (`ending`). */
function partialHead(ctx, ending) {
  hijack(ctx, (socket) => {
    socket.write(`HTTP/1.1 200 OK\r\n${ctx.cors ? `Access-Control-Allow-Origin: ${ctx.req.headers.origin ?? '*'}\r\n` : ''}Content-Type: applic`);
    if (ending !== 'stall') ctx.later(FAULT_DELAY_MS, () => endSocket(socket, ending));
  });
}

/** One complete chunk of chunked transfer coding. */
function chunk(bytes) {
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
}

// ---------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------

/**
 * Chunks of a JSON-ish body of exactly n bytes: `{"data":"xxx…"}` (valid JSON when n >= 11; a
 * run of digits, still valid JSON, when 0 < n < 11).
 */
function* jsonStringChunks(n, fill = 'x') {
  if (n < 11) {
    if (n > 0) yield Buffer.from('1'.repeat(n));
    return;
  }
  const filler = Buffer.alloc(CHUNK_SIZE, fill);
  yield Buffer.from('{"data":"');
  for (let left = n - 11; left > 0; left -= CHUNK_SIZE) yield filler.subarray(0, Math.min(left, CHUNK_SIZE));
  yield Buffer.from('"}');
}

/** Chunks of n bytes 0,1,…,255,0,1,… (so a test can check every byte arrived in order). */
function* patternChunks(n) {
  const pattern = Buffer.alloc(CHUNK_SIZE);
  for (let i = 0; i < CHUNK_SIZE; i++) pattern[i] = i & 0xff;
  for (let left = n; left > 0; left -= CHUNK_SIZE) yield pattern.subarray(0, Math.min(left, CHUNK_SIZE));
}

/** A realistic JSON document of at least `size` bytes: {"items":[{"id":0,…},…]}. */
function jsonDocument(size) {
  const items = [];
  let length = '{"items":[]}'.length;
  for (let i = 0; length < size; i++) {
    const item = JSON.stringify({ id: i, name: `item ${i}`, even: i % 2 === 0 });
    items.push(item);
    length += item.length + 1;
  }
  return `{"items":[${items.join(',')}]}`;
}

/** The body the mid-body faults start to send (1 KiB of JSON; only its start goes out). */
const PARTIAL_BODY = Buffer.from(jsonDocument(1024));

/** mb -> Promise<Buffer>: gzip of {"data":"<spaces>"} that inflates to exactly mb MiB. */
const gzipBombs = new Map();

function gzipBomb(mb) {
  if (!gzipBombs.has(mb)) gzipBombs.set(mb, compress(jsonStringChunks(mb * MiB, ' ')));
  return gzipBombs.get(mb);
}

async function compress(chunks) {
  const out = [];
  await pipeline(Readable.from(chunks), createGzip({ level: 9 }), async (source) => {
    for await (const piece of source) out.push(piece);
  });
  return Buffer.concat(out);
}

const HTML_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>502 Bad Gateway</title></head>
<body><h1>Bad Gateway</h1><p>The upstream server is not answering. (An HTML page where JSON was expected.)</p></body>
</html>
`;

/** The first 10 bytes of a real gzip stream (magic, deflate, no flags, mtime 0, unix). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);

// ---------------------------------------------------------------------------------------------
// Routes: each is { path, description, handle(ctx, params) }
// ---------------------------------------------------------------------------------------------

function route(path, description, handle) {
  const parts = path.split('/');
  const match = (pathname) => {
    const given = pathname.split('/');
    if (given.length !== parts.length) return null;
    const params = {};
    for (const [i, part] of parts.entries()) {
      if (part.startsWith(':')) params[part.slice(1)] = decodePathPart(given[i]);
      else if (part !== given[i]) return null;
    }
    return params;
  };
  return { path, description, handle, match };
}

function decodePathPart(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ParamError(`bad percent-encoding in "${part}"`);
  }
}

/** @returns {{ route, params } | null} */
function findRoute(pathname) {
  for (const candidate of ROUTES) {
    const params = candidate.match(pathname);
    if (params) return { route: candidate, params };
  }
  return null;
}

/** The TLS listener answers every path with this. */
const TLS_ROUTE = route('/*', '200 JSON {"ok":true}', okJson);

/** Every route of the HTTP listener, in the order the standalone server lists them. */
export const ROUTES = Object.freeze([
  // --- normal answers ---
  route('/ok', '200 JSON {"ok":true}', okJson),
  route('/json', '200 JSON document of about ?size=N bytes (1024)', jsonOfSize),
  route('/text', '200 text/plain', plainText),
  route('/echo', '200 JSON {method,url,headers,body,bodyBytes} of the request (body up to 16 MiB)', echo),
  route('/auth', '200 JSON {ok:true} when Authorization is "Bearer ?token=T" (fresh), else 401', auth),
  route('/status/:code', 'that status, JSON {"error":"…"}; ?ct=text/plain for text; ?retryAfter=S', status),
  route('/delay', '200 JSON after ?ms=N (1000): the headers are delayed', delay),
  route('/bytes', '?n=N (1 MiB) bytes 0,1,…,255,0,… of application/octet-stream, Content-Length set', byteStream),
  route('/big', 'JSON {"data":"xxx…"} of exactly ?n=N bytes (1 MiB); ?cl=0: chunked, no Content-Length', (ctx) =>
    bigJson(ctx, MiB),
  ),
  route('/too-large', "like /big, n defaults to 64 MiB + 1 (one byte over surefetch's maxBodyBytes)", (ctx) =>
    bigJson(ctx, 64 * MiB + 1),
  ),
  route('/trickle', '200 text/plain, chunked: ?chunks=N (10) of ?size=B (16) bytes every ?every=MS (100), the first after ?first=MS (every)', trickle),

  // --- retries ---
  route('/flaky', '?id=X: the first ?fail=K (1) hits fail (?mode=status|reset|reset-body|slow), then 200 {"ok":true,"hits":n}', flaky),
  route('/429', '429 JSON; ?retryAfter=S (&retryAfterDate=1: as an HTTP-date)', (ctx) => failWith(ctx, 429)),
  route('/503', '503 JSON; ?retryAfter=S (&retryAfterDate=1: as an HTTP-date)', (ctx) => failWith(ctx, 503)),

  // --- connection faults ---
  route('/reset-before-headers', 'reads the request, then a TCP reset (ECONNRESET)', (ctx) => endEarly(ctx, 'reset')),
  route('/close-before-headers', 'reads the request, then a graceful close, no bytes', (ctx) => endEarly(ctx, 'close')),
  route('/reset-mid-body', '200 JSON head + part of the body, then a TCP reset; ?framing=cl|chunked; ?shape=split: head, body pieces and the fault 20 ms apart', (ctx) =>
    endMidBody(ctx, 'reset'),
  ),
  route('/close-mid-body', '200 JSON head + part of the body, then a graceful close; ?framing=cl|chunked', (ctx) =>
    endMidBody(ctx, 'close'),
  ),
  route('/stall-before-headers', 'reads the request, never answers (the socket stays open)', (ctx) =>
    hijack(ctx, () => {}),
  ),
  route('/stall-mid-body', '200 JSON head + part of the body, then nothing; ?framing=cl|chunked', (ctx) =>
    endMidBody(ctx, 'stall'),
  ),
  route('/reset-mid-headers', 'the status line and half a header, then a TCP reset', (ctx) => partialHead(ctx, 'reset')),
  route('/close-mid-headers', 'the status line and half a header, then a graceful close', (ctx) => partialHead(ctx, 'close')),
  route('/stall-mid-headers', 'the status line and half a header, then nothing', (ctx) => partialHead(ctx, 'stall')),

  // --- protocol faults ---
  route('/bad-chunk', 'Transfer-Encoding: chunked with an invalid chunk size line "zz"', badChunk),
  route('/bad-gzip', 'Content-Encoding: gzip, the body is not gzip; ?partial=1: gzip header + garbage', badGzip),
  route('/malformed-status', 'status line "HTTP/1.1 abc Nope"', malformedStatus),
  route('/status-line', 'status line "HTTP/1.1 ?code=N (999) ?text=T (Weird)", JSON body; any 3-digit code fetch hands over', statusLine),
  route('/raw/:name', 'a canned raw response that breaks HTTP one more way (RAW_RESPONSES: bad-content-length, huge-header, redirect-file, status-600, ...); ?split=1: in 7-byte pieces (50 at most) every 5 ms', rawResponse),
  route('/gzip-late-garbage', 'Content-Encoding: gzip: a valid start, then after ?ms=N (100) bytes that are not gzip and the end', gzipLateGarbage),
  route('/redirect-loop', '302 to itself (same query), forever', redirectLoop),
  route('/redirect', 'one redirect to ?to=PATH_OR_URL (/ok); ?status=302|301|303|307|308', redirect),
  route('/gzip-bomb', 'small gzip body inflating to ?mb=N (100) MiB of {"data":"<spaces>"}', gzipBombRoute),

  // --- bodies that are not what they claim ---
  route('/charset/:name', `charsets.js fixture; ?as=json|text; ?header=none: no charset; ?ct=LINE (repeatable): these Content-Type lines instead; ?status=N (200)`, charset),
  route('/html-as-json', 'Content-Type application/json, body an HTML page', (ctx) => html(ctx, 'application/json')),
  route('/html', '200 text/html page', (ctx) => html(ctx, 'text/html; charset=utf-8')),
  route('/bad-json', 'application/json, body {"a":', ({ res }) => sendBody(res, 200, 'application/json', '{"a":')),
  route('/empty', 'empty body; ?status=200 (JSON, Content-Length: 0)|204|205|any 200-599', empty),
  route('/empty-chunked', '200 application/json, chunked, zero bytes', emptyChunked),
  route('/no-cors', '200 JSON {"ok":true} without any CORS header (OPTIONS too)', okJson),
]);

function okJson({ res }) {
  sendJson(res, 200, { ok: true });
}

function jsonOfSize({ res, query }) {
  sendBody(res, 200, 'application/json', jsonDocument(intParam(query, 'size', 1024, 0, 64 * MiB)));
}

function plainText({ res }) {
  sendBody(res, 200, 'text/plain; charset=utf-8', 'hello from the fault server\n');
}

function echo({ req, res }) {
  const chunks = [];
  let size = 0;
  req.on('data', (piece) => {
    size += piece.length;
    if (size > ECHO_LIMIT) return void req.destroy();
    chunks.push(piece);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const { method, url, headers } = req;
    sendJson(res, 200, { method, url, headers, body: body.toString('utf8'), bodyBytes: body.length });
  });
}

function auth({ req, res, query }) {
  const want = `Bearer ${query.get('token') ?? 'fresh'}`;
  if (req.headers.authorization === want) return sendJson(res, 200, { ok: true });
  sendJson(res, 401, { error: 'Unauthorized' }, { 'WWW-Authenticate': 'Bearer' });
}

/** `/status/:code`: JSON {"error":"<status text>"}, or `?ct=` (any non-JSON type) for a text body. */
function status({ res, query }, { code }) {
  const value = Number(code);
  if (!Number.isInteger(value) || value < 200 || value > 599) {
    throw new ParamError(`/status/:code must be 200-599, got "${code}"`);
  }
  const statusText = http.STATUS_CODES[value] ?? 'Unknown';
  const headers = retryAfterHeaders(query);
  if (value === 204 || value === 205 || value === 304) {
    res.writeHead(value, value === 205 ? { ...headers, 'Content-Length': 0 } : headers);
    return void res.end();
  }
  const ct = query.get('ct');
  if (ct && !ct.includes('json')) return sendBody(res, value, ct, `${value} ${statusText}`, headers);
  sendJson(res, value, { error: statusText }, headers);
}

function delay({ res, query, later }) {
  const ms = intParam(query, 'ms', 1000, 0, 600_000);
  later(ms, () => sendJson(res, 200, { ok: true, delayed: ms }));
}

function byteStream({ res, query }) {
  const n = intParam(query, 'n', MiB, 0, 4 * GiB);
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': n });
  stream(res, patternChunks(n));
}

function bigJson({ res, query }, defaultSize) {
  const n = intParam(query, 'n', defaultSize, 0, 4 * GiB);
  const withLength = enumParam(query, 'cl', ['1', '0']) === '1';
  res.writeHead(200, { 'Content-Type': 'application/json', ...(withLength ? { 'Content-Length': n } : {}) });
  stream(res, jsonStringChunks(n));
}

/** Headers at once, then every gap (including the one before the first chunk) is `every` ms. */
function trickle({ res, query, later }) {
  const every = intParam(query, 'every', 100, 0, 60_000);
  const chunks = intParam(query, 'chunks', 10, 0, 100_000);
  const size = intParam(query, 'size', 16, 1, MiB);
  const first = intParam(query, 'first', every, 0, 60_000);
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }); // no length: chunked
  res.flushHeaders();
  let sent = 0;
  const tick = () => {
    if (sent === chunks) return void res.end();
    res.write(Buffer.alloc(size, 'abcdefghijklmnopqrstuvwxyz'[sent % 26]));
    sent++;
    later(every, tick);
  };
  later(first, tick);
}

/**
 * `/flaky?id=X&fail=K`: hits 1..K of id X fail, later ones get 200 {"ok":true,"hits":n}.
 * How they fail, by ?mode=:
 *   status      (default) ?status= (503) with JSON, plus ?retryAfter=S [&retryAfterDate=1]
 *   reset       TCP reset before any header
 *   reset-body  200 head with Content-Length, half the success body, then a TCP reset
 */
function flaky(ctx) {
  const { res, query, hits } = ctx;
  if (query.get('id') === null) throw new ParamError('/flaky needs ?id= (hits are counted per id)');
  const fail = intParam(query, 'fail', 1, 0, 1_000_000);
  const mode = enumParam(query, 'mode', ['status', 'reset', 'reset-body', 'slow']);
  const code = intParam(query, 'status', 503, 200, 599);
  const success = Buffer.from(JSON.stringify({ ok: true, hits }));

  if (hits > fail) return sendBody(res, 200, 'application/json', success);
  if (mode === 'reset') return endEarly(ctx, 'reset');
  // The first K hits answer 200 too, but only after ?ms=N (2000): a slow tail for hedging.
  if (mode === 'slow') return ctx.later(intParam(query, 'ms', 2000, 0, 600_000), () => sendBody(res, 200, 'application/json', success));
  if (mode === 'reset-body') {
    return partialBody(ctx, { framing: 'cl', ending: 'reset', body: success, sent: success.length >> 1 });
  }
  sendJson(res, code, { error: `flaky: failure ${hits} of ${fail}` }, retryAfterHeaders(query));
}

function failWith({ res, query }, code) {
  sendJson(res, code, { error: http.STATUS_CODES[code] }, retryAfterHeaders(query));
}

/** Reads the request, then resets or closes the connection before sending any byte. */
function endEarly(ctx, ending) {
  hijack(ctx, (socket) => endSocket(socket, ending));
}

/** The /…-mid-body routes: see partialBody(). */
function endMidBody(ctx, ending) {
  partialBody(ctx, { framing: enumParam(ctx.query, 'framing', ['cl', 'chunked']), ending, split: enumParam(ctx.query, 'shape', ['one', 'split']) === 'split' });
}

function badChunk(ctx) {
  hijack(ctx, (socket) => {
    const head = rawHead(ctx, 'HTTP/1.1 200 OK', {
      'Content-Type': 'text/plain',
      'Transfer-Encoding': 'chunked',
      Connection: 'close',
    });
    socket.end(`${head}zz\r\nhello\r\n0\r\n\r\n`);
  });
}

function malformedStatus(ctx) {
  hijack(ctx, (socket) => {
    socket.end(rawHead(ctx, 'HTTP/1.1 abc Nope', { 'Content-Length': 0, Connection: 'close' }));
  });
}

function statusLine(ctx) {
  const code = intParam(ctx.query, 'code', 999, 100, 999);
  const text = ctx.query.get('text') ?? 'Weird';
  if (!/^[\t\x20-\x7e]*$/.test(text)) throw new ParamError('?text= must be printable ASCII');
  const body = JSON.stringify({ status: code });
  hijack(ctx, (socket) => {
    socket.end(rawHead(ctx, `HTTP/1.1 ${code} ${text}`, { 'Content-Type': 'application/json', 'Content-Length': body.length, Connection: 'close' }) + body);
  });
}

/**
 * Responses no HTTP library would write, each as raw bytes after the CORS headers: what a hostile
 * or broken server sends. `?split=1` writes them a few bytes at a time, 5 ms apart.
 */
const RAW_RESPONSES = {
  'bad-content-length': 'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello',
  'two-lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
  'te-and-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'header-nul': 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\nok',
  'huge-header': `HTTP/1.1 200 OK\r\nX-A: ${'a'.repeat(70_000)}\r\nContent-Length: 2\r\n\r\nok`,
  'many-100': `${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(50)}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok`,
  'redirect-file': 'HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n',
  'redirect-javascript': 'HTTP/1.1 302 Found\r\nLocation: javascript:alert(1)\r\nContent-Length: 0\r\n\r\n',
  'status-199': 'HTTP/1.1 199 Odd\r\nContent-Length: 0\r\n\r\n',
  'status-600': 'HTTP/1.1 600 Six\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok',
  'status-204-with-body': 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello',
  'not-http': 'NOT HTTP AT ALL\r\n\r\n',
  'partial-status-line': 'HTTP/1.',
  'gzip-header-only': 'HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\n\x1f\x8b\x08',
  'bom-against-header': 'HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 16\r\n\r\n\xff\xfe{\x00"\x00a\x00"\x00:\x001\x00}\x00',
};

function rawResponse(ctx, { name }) {
  const raw = RAW_RESPONSES[name];
  if (!raw) throw new ParamError(`/raw/:name must be one of ${Object.keys(RAW_RESPONSES).join(', ')}`);
  // The CORS headers go right after the first status line, so a browser sees the fault itself.
  const cors = ctx.cors ? Object.entries(corsHeaders(ctx.req)).map(([k, v]) => `${k}: ${v}\r\n`).join('') : '';
  const bytes = Buffer.from(raw.replace(/^(HTTP\/1\.1 [^\r]*\r\n)(?!\r\n)/, `$1${cors}`), 'latin1');
  const split = ctx.query.get('split') === '1';
  // Pieces of 7 bytes (at most 50 pieces: a long response in longer ones).
  const piece = Math.max(7, Math.ceil(bytes.length / 50));
  hijack(ctx, (socket) => {
    if (!split) return void socket.end(bytes);
    let at = 0;
    const next = () => {
      if (socket.destroyed) return;
      socket.write(bytes.subarray(at, at + piece));
      at += piece;
      if (at < bytes.length) ctx.later(5, next);
      else socket.end();
    };
    next();
  });
}

/** A gzip body that decodes for a while, then fails: Node 22.23.3's fetch stream then ignores its abort. */
const LATE_GZIP = gzipSync(Buffer.from(JSON.stringify({ data: 'x'.repeat(100_000) })));

function gzipLateGarbage({ res, query, later }) {
  const ms = intParam(query, 'ms', 100, 0, 60_000);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
  res.write(LATE_GZIP.subarray(0, 200));
  later(ms, () => res.end(Buffer.alloc(64, 0xff)));
}

function badGzip({ res, query }) {
  const body =
    query.get('partial') === '1'
      ? Buffer.concat([GZIP_HEADER, Buffer.alloc(32, 0xff)]) // 0xff: a reserved deflate block type
      : Buffer.from('this is plain text, not gzip');
  sendBody(res, 200, 'application/json', body, { 'Content-Encoding': 'gzip' });
}

function redirectLoop({ req, res }) {
  res.writeHead(302, { Location: req.url, 'Content-Length': 0 });
  res.end();
}

function redirect({ res, query }) {
  const code = Number(enumParam(query, 'status', ['302', '301', '303', '307', '308']));
  res.writeHead(code, { Location: query.get('to') ?? '/ok', 'Content-Length': 0 });
  res.end();
}

async function gzipBombRoute({ res, query }) {
  const body = await gzipBomb(intParam(query, 'mb', 100, 1, 1024));
  if (res.destroyed) return; // the client left while the bomb was being built
  sendBody(res, 200, 'application/json', body, { 'Content-Encoding': 'gzip' });
}

function charset({ res, query }, { name }) {
  const fixture = charsets[name];
  if (!fixture) return sendJson(res, 404, { error: `no charset fixture "${name}"`, names: CHARSET_NAMES });
  const as = enumParam(query, 'as', ['json', 'text']);
  const header = enumParam(query, 'header', ['label', 'none']);
  const code = intParam(query, 'status', 200, 200, 599); // e.g. 500: an error body in that charset
  if (code === 204 || code === 205 || code === 304) throw new ParamError(`?status=${code} cannot carry a body`);
  // ?ct= (repeatable): the Content-Type line(s) sent instead, verbatim.
  const lines = query.getAll('ct');
  sendBody(res, code, lines.length === 0 ? contentTypeOf(name, as, header) : lines.length === 1 ? lines[0] : lines, Buffer.from(fixture.bytes[as]));
}

function html({ res }, contentType) {
  sendBody(res, 200, contentType, HTML_PAGE);
}

function empty({ res, query }) {
  const code = intParam(query, 'status', 200, 200, 599);
  if (code === 204 || code === 304) res.writeHead(code);
  else if (code === 205) res.writeHead(code, { 'Content-Length': 0 });
  else res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': 0 });
  res.end();
}

function emptyChunked({ res }) {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  res.end(); // node:http writes just the terminating 0-chunk
}

// ---------------------------------------------------------------------------------------------
// Standalone
// ---------------------------------------------------------------------------------------------

async function main() {
  const env = process.env;
  const fs = await startFaultServer({
    host: env.HOST || '127.0.0.1',
    port: Number(env.PORT || 0),
    tlsPort: Number(env.TLS_PORT || 0),
  });
  const width = Math.max(...ROUTES.map((r) => r.path.length));
  console.log(`fault server
  url        ${fs.url}   (raw faults hijack sockets on this same port)
  tlsUrl     ${fs.tlsUrl}   (self-signed, test/fault-server/cert/cert.pem; any path -> {"ok":true})
  refusedUrl ${fs.refusedUrl}   (connection refused)

routes:
${ROUTES.map((r) => `  ${r.path.padEnd(width)}  ${r.description}`).join('\n')}
  ${STATS_PATH.padEnd(width)}  the counters as JSON ({hits for ?id=, requests, inFlight, …}); not counted

Ctrl-C to stop.`);
  const stop = () => fs.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** True when this file was started with `node server.js` (not imported by a test or a runner). */
function isEntryPoint() {
  try {
    return Boolean(process.argv[1]) && fileURLToPath(import.meta.url) === realpathSync(process.argv[1]);
  } catch {
    return false; // argv[1] is not a real file (some runners): certainly not us
  }
}

// No top-level await here, so the module can also be loaded with require() (require(esm)).
if (isEntryPoint()) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
