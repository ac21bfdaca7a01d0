// surefetch/node held to Node's global fetch: the same requests to one loopback server through
// both, compared field by field: the response (status, statusText, ok, url, redirected, type,
// headers, body bytes) or the error (name, message, the cause's name/message/code, and the
// union member surefetch makes of it), and what the server saw (method, path, headers, body,
// framing). Run over both undici majors the peer range allows. Where the transport differs on
// purpose, the test says so and holds the transport to its own rule.
import {getEventListeners, once} from 'node:events';
import {mkdtempSync, openAsBlob, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import {createSecureServer} from 'node:http2';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {createHash} from 'node:crypto';
import zlib from 'node:zlib';
import * as undici8 from 'undici';
import * as undici7 from 'undici7';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createClient, isFetchError} from '../../src/index.js';
import {transportOver, type NodeTransport, type Undici} from '../../src/node/transport.js';
import {runNodeChild} from '../support/child.js';

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

const require = createRequire(import.meta.url);
const majorOf = (name: string) => Number.parseInt((require(`${name}/package.json`) as {version: string}).version, 10);
/** The transport's view of each undici major, and the module (for a caller's own dispatchers). */
const flavours: Array<[string, Undici, {Client: new (origin: string, options: object) => {close(): Promise<void>}}]> = [
	[`undici ${majorOf('undici')}`, {Agent: undici8.Agent, fetch: undici8.fetch, major: majorOf('undici')} as unknown as Undici, undici8 as never],
	[`undici ${majorOf('undici7')}`, {Agent: undici7.Agent, fetch: undici7.fetch, major: majorOf('undici7')} as unknown as Undici, undici7 as never],
];
const nodeMajor = Number(process.versions.node.split('.')[0]);

// --- the server: two origins on 127.0.0.1, one handler ---

const text = 'Hello, differential world! '.repeat(200);
let a: Server;
let b: Server;
let A = '';
let B = '';
let dir = '';
let filePath = '';
const sockets = new Set<import('node:net').Socket>();

function serve(): Server {
	const server = createServer((req, res) => handle(req, res));
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	return server;
}

beforeAll(async () => {
	a = serve();
	b = serve();
	a.listen(0, '127.0.0.1');
	b.listen(0, '127.0.0.1');
	await Promise.all([once(a, 'listening'), once(b, 'listening')]);
	A = `http://127.0.0.1:${(a.address() as {port: number}).port}`;
	B = `http://127.0.0.1:${(b.address() as {port: number}).port}`;
	dir = mkdtempSync(join(tmpdir(), 'surefetch-diff-'));
	filePath = join(dir, 'upload.bin');
	writeFileSync(filePath, Buffer.alloc(300_000, 'file-backed blob '));
});
afterAll(async () => {
	for (const socket of sockets) socket.destroy();
	await Promise.all([new Promise((r) => a.close(r)), new Promise((r) => b.close(r))]);
	rmSync(dir, {recursive: true, force: true});
});

/** What a request looked like on arrival. Names in lower case (the transport sends them so). */
interface Seen {
	method: string;
	path: string;
	headers: Array<[string, string]>;
	body: string;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
	const url = new URL(req.url!, 'http://x');
	const q = url.searchParams;
	// Answers at once, before the request body ends (it may never end).
	if (url.pathname === '/early') return void res.writeHead(200, {'content-type': 'text/plain'}).end('early');
	const chunks: Buffer[] = [];
	req.on('data', (chunk: Buffer) => chunks.push(chunk));
	req.on('end', () => {
		switch (url.pathname) {
			case '/echo': {
				const headers: Array<[string, string]> = [];
				for (let i = 0; i < req.rawHeaders.length; i += 2) {
					const name = req.rawHeaders[i]!.toLowerCase();
					if (name !== 'host') headers.push([name, req.rawHeaders[i + 1]!]);
				}
				headers.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
				const seen: Seen = {method: req.method!, path: req.url!, headers, body: Buffer.concat(chunks).toString('latin1')};
				return void res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify(seen));
			}
			case '/redirect': {
				const headers: Record<string, string> = {location: q.get('to') ?? '/echo'};
				const policy = q.get('rp');
				if (policy) headers['referrer-policy'] = policy;
				const status = Number(q.get('status') ?? 302);
				switch (q.get('body') ?? 'none') {
					case 'none':
						return void res.writeHead(status, {...headers, 'content-length': '0'}).end();
					case 'small':
						return void res.writeHead(status, {...headers, 'content-type': 'text/html'}).end('<a href="/echo">moved</a>');
					case 'stall':
						// Promises 100,000 bytes, sends 10, then nothing: a client that reads it waits forever.
						res.writeHead(status, {...headers, 'content-length': '100000'});
						return void res.write('x'.repeat(10));
					default: {
						// Endless: writes as fast as the client takes it, until the client leaves (10 s at most).
						res.writeHead(status, headers);
						const until = Date.now() + 10_000;
						const block = Buffer.alloc(16 * 1024, 'y');
						const pump = () => {
							while (!res.destroyed && Date.now() < until) if (!res.write(block)) return void res.once('drain', pump);
							res.destroy();
						};
						return pump();
					}
				}
			}
			case '/enc': {
				// ?line=gzip&line=br,deflate: one Content-Encoding line each, applied in order.
				const lines = q.getAll('line');
				let body: Buffer = Buffer.from(text);
				for (const coding of lines.flatMap((line) => line.split(',').map((c) => c.trim()))) body = encode(coding, body);
				res.writeHead(200, [['content-type', 'text/plain'], ['content-length', String(body.length)], ...lines.map((line) => ['content-encoding', line])]);
				return void res.end(body);
			}
			case '/status':
				// A status line node:http would not write: raw bytes on the socket.
				return void req.socket.end(`HTTP/1.1 ${q.get('code')} ${q.get('text') ?? 'Weird'}\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi`);
			case '/text':
				return void res.writeHead(200, {'content-type': 'text/plain'}).end('Hello world!');
			default:
				return void res.writeHead(404).end();
		}
	});
}

function encode(coding: string, body: Buffer): Buffer {
	switch (coding) {
		case 'gzip': return zlib.gzipSync(body);
		case 'deflate': return zlib.deflateSync(body);
		case 'br': return zlib.brotliCompressSync(body);
		default: return body; // an unknown coding: the body as it is (fetch leaves it alone)
	}
}

// --- one request, through one fetch: what came back ---

interface ErrorView {
	name: string;
	message: string;
	cause?: {name: string; message: string; code?: unknown};
	/** The union member surefetch makes of it. */
	surefetch?: Record<string, unknown>;
}

function describeError(error: unknown): ErrorView {
	const e = error as Error & {cause?: Error & {code?: unknown}};
	const view: ErrorView = {name: e?.name, message: e?.message};
	if (e?.cause instanceof Error) view.cause = {name: e.cause.name, message: e.cause.message, ...(e.cause.code === undefined ? {} : {code: e.cause.code})};
	return view;
}

type Init = RequestInit & {duplex?: 'half'; dispatcher?: unknown};

async function outcome(fetch: Fetch, input: string | (() => Request), init?: () => Init | Promise<Init>, {classify = true} = {}): Promise<Record<string, unknown>> {
	const timer = new AbortController();
	const timeout = setTimeout(() => timer.abort(new Error('no answer within 10 s')), 10_000);
	try {
		const given = (await init?.()) ?? {};
		const response = await fetch(typeof input === 'function' ? input() : input, {signal: timer.signal, ...given});
		const body = Buffer.from(await response.arrayBuffer());
		const headers = [...response.headers].filter(([name]) => name !== 'date' && name !== 'keep-alive');
		const seen = response.status === 200 && response.headers.get('content-type') === 'application/json' ? normalize(JSON.parse(body.toString('latin1')) as Seen) : undefined;
		return {
			status: response.status, statusText: response.statusText, ok: response.ok, url: response.url, redirected: response.redirected, type: response.type,
			headers, ...(seen ? {seen} : {body: body.toString('base64')}), instance: response instanceof Response,
		};
	} catch (error) {
		const view = describeError(error);
		if (classify && !timer.signal.aborted) view.surefetch = await throughClient(fetch, input, init);
		return {error: view};
	} finally {
		clearTimeout(timeout);
	}
}

/** The same request through a surefetch client on that fetch: the union member it fails with. */
async function throughClient(fetch: Fetch, input: string | (() => Request), init?: () => Init | Promise<Init>): Promise<Record<string, unknown>> {
	// Node's fetch as the client's own default (passed as `fetch` it would count as a caller's custom fetch).
	const api = createClient({...(fetch === globalThis.fetch ? {} : {fetch: fetch as typeof globalThis.fetch}), retry: 0, timeout: 10_000});
	const request = typeof input === 'function' ? input() : new Request(input, await init?.());
	const error = await api(request).then(() => undefined, (e: unknown) => e);
	if (!isFetchError(error)) return {notAFetchError: String(error)};
	const {kind, code, reason, phase} = error as unknown as Record<string, unknown>;
	return {kind, ...(code === undefined ? {} : {code}), ...(reason === undefined ? {} : {reason}), ...(phase === undefined ? {} : {phase})};
}

/**
 * A multipart boundary is random: the same body with a fixed one. (Node's fetch sends a FormData
 * again after a 307/308 with a new boundary under the old Content-Type, a mismatch the transport
 * does not make: it sends the same bytes. Fixing every boundary hides that difference.)
 */
function normalize(seen: Seen): Seen {
	const fixed = (value: string) => value.replace(/formdata-undici-\d+/g, 'formdata-undici-N');
	return {...seen, headers: seen.headers.map(([name, value]) => [name, fixed(value)]), body: fixed(seen.body)};
}

/**
 * Both fetches, the same request: the transport's outcome must equal Node's. `oracle`: another
 * reference where Node's own fetch is wrong (npm undici's fetch, which the transport hands these
 * requests to); it gives undici's classes and is not surefetch's default, so those two are not compared.
 */
async function same(ours: Fetch, input: string | (() => Request), init?: () => Init | Promise<Init>, label = '', oracle: Fetch = globalThis.fetch): Promise<Record<string, unknown>> {
	const global = oracle === globalThis.fetch;
	const theirs = await outcome(oracle, input, init, {classify: global});
	const mine = await outcome(ours, input, init, {classify: global});
	if (!global) {
		if ('instance' in mine) expect(mine.instance, label).toBe(true);
		delete mine.instance;
		delete theirs.instance;
	}
	expect(mine, `${label}\n${global ? 'Node\'s fetch' : 'undici\'s fetch'}: ${JSON.stringify(theirs)}`).toEqual(theirs);
	return theirs;
}

/** npm undici's fetch, saying "node" as Node's fetch (and the transport) do rather than "undici". */
const undiciAsNode = (undici: Undici): Fetch => (input, init) => (undici.fetch as unknown as Fetch)(input, {...init, headers: {'user-agent': 'node', ...(init?.headers as Record<string, string> | undefined)}});

const streamOf = (...parts: string[]) => new ReadableStream<Uint8Array>({
	pull(controller) {
		const part = parts.shift();
		if (part === undefined) controller.close();
		else controller.enqueue(new TextEncoder().encode(part));
	},
});
const byteStreamOf = (...parts: string[]) => new ReadableStream({
	type: 'bytes',
	pull(controller) {
		const part = parts.shift();
		if (part === undefined) controller.close();
		else controller.enqueue(new TextEncoder().encode(part));
	},
});
const formData = () => {
	const form = new FormData();
	form.append('field', 'value ü');
	form.append('file', new Blob(['file content'], {type: 'text/plain'}), 'a.txt');
	return form;
};

/**
 * Request bodies of every kind fetch knows; `stream`: fetch gives it no source (never sent twice).
 * `framed`: the one difference on purpose: a caller's byte stream (`type: 'bytes'`, e.g. another
 * Response's body) that is complete at once goes out with a Content-Length, not chunked (telling it
 * from a string body costs a probe the hot path does not pay; see src/node/request-body.ts).
 */
const bodies: Record<string, {make: () => Promise<BodyInit> | BodyInit; stream?: true; framed?: true}> = {
	string: {make: () => '{"a":"ü"}'},
	empty: {make: () => ''},
	bytes: {make: () => new Uint8Array([0, 1, 2, 255])},
	arrayBuffer: {make: () => new Uint8Array([9, 8, 7]).buffer},
	urlSearchParams: {make: () => new URLSearchParams({q: 'a b', r: 'ü'})},
	blob: {make: () => new Blob(['blob body'], {type: 'application/x-blob'})},
	fileBlob: {make: () => openAsBlob(filePath)},
	formData: {make: formData},
	stream: {make: () => streamOf('first,', 'second'), stream: true},
	oneChunkStream: {make: () => streamOf('only'), stream: true},
	byteStream: {make: () => byteStreamOf('byte ', 'stream'), stream: true},
	oneChunkByteStream: {make: () => byteStreamOf('only'), stream: true, framed: true},
	responseBody: {make: () => new Response('a response as a body').body!, stream: true, framed: true},
};

describe.each(flavours)('surefetch/node over %s against Node\'s fetch', (_name, undici, module) => {
	let transport: NodeTransport;
	// The transport itself (its marker tells surefetch its errors are the runtime's, not a caller's).
	let ours: Fetch;
	beforeAll(() => {
		transport = transportOver(undici, {});
		ours = transport;
	});
	afterAll(() => transport.close());

	it('sends the headers Node\'s fetch sends, for every cache mode, a conditional request, a Range and the caller\'s own', async () => {
		for (const cache of ['default', 'no-store', 'reload', 'no-cache', 'force-cache'] as RequestCache[]) await same(ours, `${A}/echo`, () => ({cache}), cache);
		await same(ours, `${A}/echo`, () => ({headers: {'if-none-match': '"x"'}}), 'conditional');
		await same(ours, `${A}/echo`, () => ({headers: {range: 'bytes=0-1'}}), 'range');
		await same(ours, `${A}/echo`, () => ({headers: {range: 'bytes=0-1', 'accept-encoding': 'gzip'}}), 'range with accept-encoding');
		await same(ours, `${A}/echo`, () => ({headers: {Accept: 'text/plain', 'User-Agent': 'me', 'Accept-Encoding': 'br', 'Accept-Language': 'de', 'Sec-Fetch-Mode': 'navigate', 'X-Mine': 'yes'}}), 'caller headers');
		await same(ours, `${A}/echo`, () => ({method: 'POST', headers: {'cache-control': 'max-age=5', pragma: 'x'}, cache: 'no-store'}), 'no-store with its own');
		// Through a Request, as ky hands it over.
		await same(ours, () => new Request(`${A}/echo`, {headers: {'x-from': 'request'}, cache: 'no-cache'}));
	});

	it('sends every kind of body as Node\'s fetch does: bytes with a Content-Length, a stream chunked; methods without a body', async () => {
		for (const [name, {make, framed}] of Object.entries(bodies)) {
			for (const method of ['POST', 'PUT']) {
				const init = async (): Promise<Init> => ({method, body: await make(), duplex: 'half'});
				// As given to fetch, and as ky hands it over: a Request (a new one for each fetch).
				const request = async () => {
					const built = new Request(`${A}/echo`, await init());
					return () => built;
				};
				for (const how of ['init', 'Request']) {
					const theirs = await outcome(globalThis.fetch, how === 'init' ? `${A}/echo` : await request(), how === 'init' ? init : undefined, {classify: false});
					const mine = await outcome(ours, how === 'init' ? `${A}/echo` : await request(), how === 'init' ? init : undefined, {classify: false});
					if (framed) {
						const seen = (mine as {seen: Seen}).seen;
						expect(seen.headers, `${method} ${name}`).toContainEqual(['content-length', String(Buffer.byteLength(seen.body, 'latin1'))]);
						expect((theirs as {seen: Seen}).seen.headers, `${method} ${name}`).toContainEqual(['transfer-encoding', 'chunked']);
						const unframed = (headers: Array<[string, string]>) => headers.filter(([header]) => header !== 'content-length' && header !== 'transfer-encoding');
						seen.headers = unframed(seen.headers);
						(theirs as {seen: Seen}).seen.headers = unframed((theirs as {seen: Seen}).seen.headers);
					}
					expect(mine, `${how} ${method} ${name}\nNode's fetch: ${JSON.stringify(theirs)}`).toEqual(theirs);
				}
			}
		}
		for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) await same(ours, `${A}/echo`, () => ({method}), `${method} without a body`);
	});

	it('PATCH without a body: no Content-Length, as Node\'s fetch', async () => {
		await same(ours, `${A}/echo`, () => ({method: 'PATCH'}));
	});

	it('redirects a body as fetch does: 303 drops it, 301/302 drop a POST\'s, 307/308 send it again unless it came from a stream', async () => {
		for (const status of [301, 302, 303, 307, 308]) {
			for (const method of ['POST', 'PUT']) {
				for (const [name, {make}] of Object.entries(bodies)) {
					const init = async (): Promise<Init> => ({method, body: await make(), duplex: 'half'});
					const theirs = await outcome(globalThis.fetch, `${A}/redirect?status=${status}&to=/echo`, init, {classify: false});
					const mine = await outcome(ours, `${A}/redirect?status=${status}&to=/echo`, init, {classify: false});
					const failed = (theirs as {error?: ErrorView}).error;
					if (failed && /detached ArrayBuffer/.test(failed.cause?.message ?? '')) {
						// Node 22's fetch cannot send a bytes body again (it was transferred while sent; Node 24 and
						// 26 can): the transport sends it again as Node 24 does.
						expect(nodeMajor, `${status} ${method} ${name}: ${JSON.stringify(failed)}`).toBe(22);
						expect(mine, `${status} ${method} ${name}`).toMatchObject({status: 200, seen: {method}});
						continue;
					}
					// A stream that cannot be sent again: fetch's cause says nothing (""), ours says why.
					if (failed) failed.cause!.message = expect.any(String) as unknown as string;
					expect(mine, `${status} ${method} ${name}\nNode's fetch: ${JSON.stringify(theirs)}`).toEqual(theirs);
				}
			}
		}
	});

	it('a stream body is never sent twice: a 307/308 fails, and so does a 301/302 POST; through the client too', async () => {
		for (const status of [301, 302, 307, 308]) {
			for (const name of ['stream', 'oneChunkStream', 'byteStream', 'oneChunkByteStream', 'responseBody']) {
				const error = await transport(`${A}/redirect?status=${status}&to=/echo`, {method: 'POST', body: await bodies[name]!.make(), duplex: 'half'} as Init).then(() => undefined, (e: unknown) => e);
				expect(describeError(error), `${status} ${name}`).toMatchObject({name: 'TypeError', message: 'fetch failed'});
			}
		}
		const api = createClient({fetch: transport, retry: 0});
		const failure = await api.post(`${A}/redirect?status=307&to=/echo`, {body: streamOf('x'), duplex: 'half'} as never).then(() => undefined, (e: unknown) => e);
		expect(failure).toMatchObject({kind: 'network'});
		// Bytes through the client (a Request, as ky builds it) are sent again.
		expect(await api.post(`${A}/redirect?status=307&to=/echo`, {json: {x: 1}}).json()).toMatchObject({method: 'POST', body: '{"x":1}'});
	});

	it('refuses what fetch refuses on a redirect: credentials in Location, a non-HTTP(S) scheme, a bad URL, a bad port, a loop', async () => {
		const cases = [
			`http://user:secret@${A.slice(7)}/echo`,
			`http://user:secret@${B.slice(7)}/echo`,
			`http://:only-password@${A.slice(7)}/echo`,
			'ftp://127.0.0.1/x',
			'http://[::1',
			'http://127.0.0.1:10080/',
			'http://127.0.0.1:6000/',
		];
		for (const to of cases) {
			const theirs = await same(ours, `${A}/redirect?to=${encodeURIComponent(to)}`, undefined, to);
			expect(theirs).toHaveProperty('error');
			expect(JSON.stringify(theirs)).not.toContain('secret');
		}
		// A chain longer than 20.
		const chain = (n: number): string => (n === 0 ? '/echo' : `/redirect?to=${encodeURIComponent(chain(n - 1))}`);
		await same(ours, `${A}${chain(20)}`, undefined, '20 hops');
		await same(ours, `${A}${chain(21)}`, undefined, '21 hops');
	});

	it('redirect modes: "error" fails on any redirect status, Location or not; "manual" hands the redirect over', async () => {
		for (const redirect of ['error', 'manual', 'follow'] as RequestRedirect[]) {
			await same(ours, `${A}/redirect?to=/echo`, () => ({redirect}), `${redirect} with Location`);
			await same(ours, `${A}/redirect?to=`, () => ({redirect}), `${redirect} with an empty Location`);
		}
	});

	it('a redirect across origins: Authorization and Cookie dropped, the rest kept, the Response typed "cors"', async () => {
		await same(ours, `${A}/redirect?to=${encodeURIComponent(`${B}/echo`)}`, () => ({headers: {authorization: 'Bearer x', cookie: 'c=1', 'x-kept': 'yes'}}));
		// And back: still "cors" (fetch taints the request once it left its origin).
		await same(ours, `${A}/redirect?to=${encodeURIComponent(`${B}/redirect?to=${encodeURIComponent(`${A}/echo`)}`)}`);
	});

	it('does not wait for a redirect\'s body: a stalled or endless one is dropped and the next hop goes out at once', async () => {
		for (const body of ['none', 'small', 'stall', 'endless']) {
			for (const status of [301, 302, 303, 307, 308]) {
				const started = performance.now();
				await same(ours, `${A}/redirect?status=${status}&body=${body}&to=/echo`, () => ({method: 'POST', body: 'x'}), `${status} ${body}`);
				// Both would wait 10 s (the outcome's own limit) if either read the body to its end.
				expect(performance.now() - started, `${status} ${body}`).toBeLessThan(5000);
			}
		}
	});

	it('refuses fetch\'s bad ports (TypeError, cause "bad port"; an invalid URL to surefetch), directly and through a redirect', async () => {
		for (const port of [1, 25, 6000, 10080]) {
			const direct = await same(ours, `http://127.0.0.1:${port}/`, undefined, String(port));
			expect(direct).toMatchObject({error: {message: 'fetch failed', cause: {message: 'bad port'}, surefetch: {kind: 'invalid', reason: 'url'}}});
			const redirected = await same(ours, `${A}/redirect?to=${encodeURIComponent(`http://127.0.0.1:${port}/`)}`, undefined, `redirect to ${port}`);
			expect(redirected).toMatchObject({error: {cause: {message: 'bad port'}}});
		}
	});

	it('decodes every Content-Encoding line as one list, at most 5 codings in all', async () => {
		const cases = [
			['gzip'], ['gzip', 'br'], ['gzip, br'], ['deflate', 'gzip, br'], ['br', 'x-unknown'],
			['gzip, gzip, gzip, gzip, gzip'], ['gzip, gzip, gzip, gzip, gzip, gzip'],
			['gzip, gzip, gzip', 'gzip, gzip'], ['gzip, gzip, gzip', 'gzip, gzip, gzip'], ['gzip', 'gzip', 'gzip', 'gzip', 'gzip', 'gzip'],
		];
		for (const lines of cases) {
			const query = lines.map((line) => `line=${encodeURIComponent(line)}`).join('&');
			await same(ours, `${A}/enc?${query}`, undefined, lines.join(' | '));
		}
	});

	it('hands over any status line as fetch does: 999, 600, an odd reason phrase; never throws building the Response', async () => {
		for (const [code, reason] of [['999', 'Weird'], ['600', 'Beyond'], ['200', 'Süß'], ['404', ''], ['599', 'Edge'], ['200', '%E4%BD%A0%E5%A5%BD']]) {
			const query = `code=${code}&text=${encodeURIComponent(decodeURIComponent(reason!))}`;
			await same(ours, `${A}/status?${query}`, undefined, `${code} ${reason}`);
		}
		const odd = await transport(`${A}/status?code=999&text=Weird`);
		expect([odd.status, odd.statusText, odd.ok, odd instanceof Response, await odd.text()]).toEqual([999, 'Weird', false, true, 'hi']);
		// A clone keeps it.
		const clone = (await transport(`${A}/status?code=999&text=Weird`)).clone();
		expect([clone.status, clone.statusText]).toEqual([999, 'Weird']);
	});

	it('looks like fetch (name, length); a 407 is a network error, as in Node\'s fetch (it cannot ask for proxy credentials)', async () => {
		expect([transport.name, transport.length]).toEqual([globalThis.fetch.name, globalThis.fetch.length]);
		for (const init of [{}, {window: null}, {redirect: 'manual' as const}]) {
			// Compared without the client: `window` is not an option a surefetch client hands on.
			const theirs = await outcome(globalThis.fetch, `${A}/status?code=407&text=Proxy`, () => init, {classify: false});
			const mine = await outcome(ours, `${A}/status?code=407&text=Proxy`, () => init, {classify: false});
			// Node's cause says nothing (""); the transport's says why.
			expect(mine, JSON.stringify(init)).toEqual({error: {...(theirs as {error: ErrorView}).error, cause: {name: 'Error', message: 'proxy authentication required'}}});
		}
		// Through a client, the union member differs on purpose: Node's bare "fetch failed" is all a
		// client can see of it (unknown); the transport's cause names it: NetworkError proxy, as the
		// SPEC wants a 407 (README, surefetch/node, proxies).
		expect(await throughClient(globalThis.fetch, `${A}/status?code=407&text=Proxy`)).toEqual({kind: 'network', code: 'unknown', phase: 'headers'});
		expect(await throughClient(ours, `${A}/status?code=407&text=Proxy`)).toEqual({kind: 'network', code: 'proxy', phase: 'headers'});
	});

	it('informational and malformed statuses fail as fetch fails them', async () => {
		for (const code of ['100', '199']) {
			const theirs = await outcome(globalThis.fetch, `${A}/status?code=${code}`);
			const mine = await outcome(ours, `${A}/status?code=${code}`);
			// The parser's message differs across undici versions: the kind does not.
			expect((mine as {error: ErrorView}).error.surefetch, code).toEqual((theirs as {error: ErrorView}).error.surefetch);
		}
	});

	it('fetches data: URLs (fragments, long base64, percent-encoding) and blob: URLs as Node\'s fetch does', async () => {
		const long = Buffer.alloc(1024 * 1024 + 3, 'long base64 payload ').toString('base64');
		const blob = new Blob(['a blob URL body'], {type: 'text/plain;charset=utf-8'});
		const blobUrl = URL.createObjectURL(blob);
		const revoked = URL.createObjectURL(new Blob(['gone']));
		URL.revokeObjectURL(revoked);
		const cases = [
			'data:,Hello%2C%20World%21',
			'data:text/plain;base64,SGVsbG8sIFdvcmxkIQ==',
			'data:text/plain;base64,SGVsbG8sIFdvcmxkIQ==#frag',
			'data:,a#b?c',
			'data:text/html;charset=utf-8,%3Ch1%3E%C3%BC%3C%2Fh1%3E',
			`data:application/octet-stream;base64,${long}`,
			'data:;base64,%%%',
			'data:text/plain;base64,SGVsbG8=====',
			blobUrl,
			`${blobUrl}#frag`,
			revoked,
		];
		try {
			for (const url of cases) await same(ours, url, undefined, url.slice(0, 60));
			await same(ours, blobUrl, () => ({method: 'POST', body: 'x'}), 'blob: POST');
			// And through the client, which lets both schemes through.
			const api = createClient({fetch: transport});
			expect(await api.get('data:application/json,{"a":1}').json()).toEqual({a: 1});
			expect(await api.get(blobUrl).text()).toBe('a blob URL body');
		} finally {
			URL.revokeObjectURL(blobUrl);
		}
	});

	it('integrity: a body that matches is handed over, a wrong hash fails, as with fetch', async () => {
		const sha = (algorithm: string) => createHash(algorithm).update('Hello world!').digest('base64');
		for (const integrity of [
			`sha256-${sha('sha256')}`, `sha384-${sha('sha384')}`, `sha512-${sha('sha512')}`,
			'sha256-wrongwrongwrongwrongwrongwrongwrongwrongwro=', `sha256-${sha('sha256')} sha512-wrong`,
			`sha256-${sha('sha256').replace(/\+/g, '-').replace(/\//g, '_')}`, 'md5-whatever', '',
		]) {
			await same(ours, `${A}/text`, () => ({integrity}), integrity);
		}
		// On a Request and in the init next to it (the init's wins, as in fetch).
		const right = `sha256-${sha('sha256')}`;
		const wrong = 'sha256-wrongwrongwrongwrongwrongwrongwrongwrongwro=';
		await same(ours, () => new Request(`${A}/text`, {integrity: wrong}), undefined, 'on the Request');
		await same(ours, () => new Request(`${A}/text`), () => ({integrity: wrong}), 'Request, integrity in init');
		await same(ours, () => new Request(`${A}/text`, {integrity: wrong}), () => ({integrity: right}), 'init over Request');
		const api = createClient({fetch: transport, retry: 0});
		expect(await api.get(`${A}/text`, {integrity: wrong}).text().then(() => 'ok', (e: {kind?: string}) => e.kind)).not.toBe('ok');
	});

	it('referrer and referrerPolicy, and a redirect\'s Referrer-Policy, as Node\'s fetch applies them', async () => {
		// Node 22's fetch sends a Referer under "no-referrer" (its undici 6): there, undici's own is the reference.
		const oracle = nodeMajor === 22 ? undiciAsNode(undici) : globalThis.fetch;
		const page = `${A}/some/page?secret=1`;
		for (const referrerPolicy of ['', 'no-referrer', 'no-referrer-when-downgrade', 'origin', 'origin-when-cross-origin', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin', 'unsafe-url'] as ReferrerPolicy[]) {
			await same(ours, `${A}/echo`, () => ({referrer: page, referrerPolicy}), `same origin ${referrerPolicy}`, oracle);
			await same(ours, `${B}/echo`, () => ({referrer: page, referrerPolicy}), `cross origin ${referrerPolicy}`, oracle);
			await same(ours, `${A}/redirect?rp=${referrerPolicy}&to=${encodeURIComponent(`${B}/echo`)}`, () => ({referrer: page}), `redirect with Referrer-Policy ${referrerPolicy}`, oracle);
		}
		await same(ours, `${A}/echo`, () => ({referrer: ''}), 'no referrer', oracle);
		await same(ours, `${A}/echo`, () => ({referrerPolicy: 'unsafe-url'}), 'a policy without a referrer', oracle);
		await same(ours, `${A}/echo`, () => ({referrer: 'about:client'}), 'about:client', oracle);
		// A Request with the referrer in init beside it (undici's own fetch, Node 22's reference, takes no global Request).
		if (nodeMajor >= 24) await same(ours, () => new Request(`${A}/echo`), () => ({referrer: page, referrerPolicy: 'unsafe-url'}), 'a Request, the referrer in init');
		else expect(await outcome(ours, () => new Request(`${A}/echo`), () => ({referrer: page, referrerPolicy: 'unsafe-url'}))).toEqual(await outcome(ours, `${A}/echo`, () => ({referrer: page, referrerPolicy: 'unsafe-url'})));
	});

	it('never sends the fragment: the request path is the URL\'s path and query', async () => {
		for (const path of ['/echo#frag', '/echo#?', '/echo?a=1#b', '/echo#', '/echo?%23#x']) await same(ours, `${A}${path}`, undefined, path);
		// A bare "?" before the fragment: Node 24 and 26 send it, Node 22 drops it; the transport keeps it.
		const response = await transport(`${A}/echo?#x`);
		expect([(await response.json() as Seen).path, response.url]).toEqual(['/echo?', `${A}/echo?`]);
		if (nodeMajor >= 24) await same(ours, `${A}/echo?#x`);
	});

	it('refuses a Request whose body was already used, as fetch does (never sends it empty)', async () => {
		for (const fetch of [globalThis.fetch, ours]) {
			const request = new Request(`${A}/echo`, {method: 'POST', body: 'once'});
			expect((await (await fetch(request)).json() as Seen).body).toBe('once');
			const again = await fetch(request).then(() => undefined, (e: unknown) => e);
			expect(again).toBeInstanceOf(TypeError);
			// A body read by the caller, and a locked one.
			const read = new Request(`${A}/echo`, {method: 'POST', body: 'read'});
			await read.text();
			expect(await fetch(read).then(() => undefined, (e: unknown) => e)).toBeInstanceOf(TypeError);
			const locked = new Request(`${A}/echo`, {method: 'POST', body: streamOf('locked'), duplex: 'half'} as Init);
			locked.body!.getReader();
			expect(await fetch(locked).then(() => undefined, (e: unknown) => e)).toBeInstanceOf(TypeError);
		}
	});

	it('an aborted signal cancels a stream body (its source is told), before and during the request', async () => {
		for (const fetch of [globalThis.fetch, ours]) {
			const reason = new Error('stop');
			let cancelled: unknown = 'not cancelled';
			const body = new ReadableStream({
				pull(controller) {
					controller.enqueue(new Uint8Array(10));
				},
				cancel(why) {
					cancelled = why;
				},
			});
			const error = await fetch(`${A}/echo`, {method: 'POST', body, duplex: 'half', signal: AbortSignal.abort(reason)} as Init).then(() => undefined, (e: unknown) => e);
			expect(error).toBe(reason);
			await new Promise((resolve) => setTimeout(resolve, 20));
			expect(cancelled, fetch === ours ? 'transport' : 'fetch').toBe(reason);
			expect(body.locked, fetch === ours ? 'transport' : 'fetch').toBe(false);
		}
		// Mid-upload: an endless stream the server never sees the end of.
		let cancelled = false;
		const endless = new ReadableStream({
			async pull(controller) {
				await new Promise((resolve) => setTimeout(resolve, 5));
				controller.enqueue(new Uint8Array(1000));
			},
			cancel() {
				cancelled = true;
			},
		});
		const controller = new AbortController();
		const pending = transport(`${A}/echo`, {method: 'POST', body: endless, duplex: 'half', signal: controller.signal} as Init);
		setTimeout(() => controller.abort(new Error('enough')), 100);
		await expect(pending).rejects.toThrow('enough');
		for (let i = 0; i < 50 && !cancelled; i++) await new Promise((resolve) => setTimeout(resolve, 20));
		expect(cancelled).toBe(true);
		// After the response: a server that answers before the upload ends (the upload goes on until the abort).
		let late: unknown = 'not cancelled';
		const stalling = new ReadableStream({
			pull(c) {
				c.enqueue(new Uint8Array(100));
				return new Promise(() => {}); // one chunk, then nothing, ever
			},
			cancel(why) {
				late = why;
			},
		});
		const after = new AbortController();
		const response = await transport(`${A}/early`, {method: 'POST', body: stalling, duplex: 'half', signal: after.signal} as Init);
		expect(response.status).toBe(200);
		const reason = new Error('after the headers');
		after.abort(reason);
		for (let i = 0; i < 50 && late === 'not cancelled'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
		expect(late).toBe(reason);
	});

	it('an abort right after a read started errors the body, though all of it had arrived (both readers)', async () => {
		// The third goes through undici's own fetch (a referrer), whose body the transport passes on.
		for (const [label, fetch, extra] of [['fetch', globalThis.fetch, {}], ['transport', ours, {}], ['transport, delegated', ours, {referrer: `${A}/page`}]] as const) {
			const reason = new Error('stop reading');
			const controller = new AbortController();
			const response = await fetch(`${A}/enc?line=identity`, {signal: controller.signal, ...extra});
			await new Promise((resolve) => setTimeout(resolve, 50)); // the whole body is here by now
			const reading = response.arrayBuffer();
			controller.abort(reason);
			expect(await reading.then(() => 'read', (e: unknown) => e), label).toBe(reason);
		}
		// The direct reader (surefetch's readers): the last chunk taken, the end not yet seen.
		const controller = new AbortController();
		const response = await transport(`${A}/enc?line=identity`, {signal: controller.signal});
		await new Promise((resolve) => setTimeout(resolve, 50));
		const direct = (response as unknown as {[key: symbol]: {read(): Promise<Uint8Array | undefined>}})[Symbol.for('surefetch.directBody')]!;
		for (let got = 0; got < text.length;) got += (await direct.read())!.byteLength;
		const reason = new Error('stop');
		controller.abort(reason);
		expect(await direct.read().then(() => 'read', (e: unknown) => e)).toBe(reason);
	});

	it('a signal shared by many calls holds no listener once each call is over', async () => {
		const controller = new AbortController();
		for (let i = 0; i < 30; i++) await (await transport(`${A}/text`, {signal: controller.signal})).text();
		await (await transport(`${A}/echo`, {method: 'POST', body: 'x', signal: controller.signal})).text();
		await transport(`${A}/text`, {signal: controller.signal, integrity: 'sha256-wrong'}).catch(() => {});
		expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
	});

	it('a request mode other than "cors" is fetch\'s: "same-origin" refuses a cross-origin redirect, "no-cors" answers it opaquely', async () => {
		// Node 22's fetch never answers a no-cors request redirected across origins: undici's own is the reference there.
		const oracle = nodeMajor === 22 ? undiciAsNode(undici) : globalThis.fetch;
		for (const mode of ['same-origin', 'no-cors'] as RequestMode[]) {
			await same(ours, `${A}/echo`, () => ({mode}), mode);
			await same(ours, `${A}/redirect?to=${encodeURIComponent(`${B}/echo`)}`, () => ({mode}), `${mode} across origins`, oracle);
		}
	});

	it('honours a per-request `dispatcher` (undici\'s extension) and refuses one that is not a dispatcher', async () => {
		const agent = new undici.Agent({});
		let dispatched = 0;
		const counting = {
			dispatch(options: object, handler: object) {
				dispatched++;
				return (agent as unknown as {dispatch(o: object, h: object): boolean}).dispatch(options, handler);
			},
		};
		try {
			expect(((await (await transport(`${A}/echo`, {dispatcher: counting} as Init)).json()) as Seen).method).toBe('GET');
			expect(dispatched).toBe(1);
			// Through the client (ky hands unknown options to fetch), and on a path undici's fetch takes.
			await createClient({fetch: transport}).get(`${A}/echo`, {dispatcher: counting} as never).json();
			await transport(`${A}/text`, {dispatcher: counting, integrity: `sha256-${createHash('sha256').update('Hello world!').digest('base64')}`} as Init);
			expect(dispatched).toBe(3);
			const refused = await transport(`${A}/echo`, {dispatcher: {}} as Init).then(() => undefined, (e: unknown) => e);
			expect(refused).toBeInstanceOf(TypeError);
			expect(String((refused as Error).message)).toMatch(/dispatcher/);
		} finally {
			await agent.close();
		}
	});

	it('through a caller\'s HTTP/2 dispatcher: headers (an object in undici 8, not a list), body, status', async () => {
		const cert = readFileSync(new URL('../fault-server/cert/cert.pem', import.meta.url));
		const key = readFileSync(new URL('../fault-server/cert/key.pem', import.meta.url));
		const server = createSecureServer({cert, key});
		server.on('stream', (stream, headers) => {
			stream.respond({':status': 201, 'content-type': 'text/plain', 'x-method': String(headers[':method']), 'set-cookie': ['a=1', 'b=2']});
			stream.end('hello h2');
		});
		server.listen(0, '127.0.0.1');
		await once(server, 'listening');
		const origin = `https://127.0.0.1:${(server.address() as {port: number}).port}`;
		const client = new module.Client(origin, {allowH2: true, connect: {rejectUnauthorized: false}});
		try {
			const response = await transport(`${origin}/`, {dispatcher: client} as Init);
			expect([response.status, response.headers.get('x-method'), response.headers.getSetCookie(), await response.text()]).toEqual([201, 'GET', ['a=1', 'b=2'], 'hello h2']);
		} finally {
			await client.close();
			await new Promise((resolve) => server.close(resolve));
		}
	});

	it('sends header names in lower case (a global Headers keeps no case); the server sees every value', async () => {
		const response = await transport(`${A}/echo`, {headers: [['Content-Type', 'text/plain'], ['X-Mixed-Case', 'Value']]});
		expect(((await response.json()) as Seen).headers).toEqual(expect.arrayContaining([['content-type', 'text/plain'], ['x-mixed-case', 'Value']]));
	});
});

describe('surefetch/node: memory', () => {
	it('an endless body of 1-byte chunks under maxBodyBytes 2 MiB: too-large, in a heap of 64 MiB', async () => {
		// Chunked encoding, one byte per chunk, as fast as the client takes it: 6 bytes on the wire per byte.
		const server = createServer((req, res) => {
			req.resume();
			res.writeHead(200, {'content-type': 'application/octet-stream'});
			res.flushHeaders();
			const block = Buffer.from('1\r\nx\r\n'.repeat(10_000));
			const socket = res.socket!;
			const until = Date.now() + 20_000;
			const pump = () => {
				while (!socket.destroyed && Date.now() < until) if (!socket.write(block)) return void socket.once('drain', pump);
				socket.destroy();
			};
			pump();
		});
		server.listen(0, '127.0.0.1');
		await once(server, 'listening');
		const url = `http://127.0.0.1:${(server.address() as {port: number}).port}/`;
		const dist = (name: string) => JSON.stringify(fileURLToPath(new URL(`../../dist/node/${name}.js`, import.meta.url)));
		try {
			// Without coalescing, each byte is an object kept by the reader: ~100 MiB for 2 MiB.
			const result = await runNodeChild(`
				const {createClient} = await import(${dist('index')});
				const {createNodeTransport} = await import(${dist('node')});
				const transport = createNodeTransport();
				const api = createClient({fetch: transport, retry: 0, maxBodyBytes: 2 * 1024 * 1024});
				let peak = 0;
				const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().heapUsed); }, 5);
				const base = process.memoryUsage().heapUsed;
				const error = await api.get(${JSON.stringify(url)}).bytes().then(() => undefined, (e) => e);
				clearInterval(sample);
				console.log(JSON.stringify({kind: error?.kind, reason: error?.reason, growth: peak - base}));
				await transport.close();
			`, {flags: ['--max-old-space-size=64'], limitMs: 60_000});
			expect(result.code, result.stderr).toBe(0);
			const {kind, reason, growth} = JSON.parse(result.stdout) as {kind: string; reason: string; growth: number};
			console.log(`heap growth reading 2 MiB of 1-byte chunks: ${(growth / 1024 / 1024).toFixed(1)} MiB`);
			expect([kind, reason]).toEqual(['decode', 'too-large']);
			expect(growth).toBeLessThan(40 * 1024 * 1024);
		} finally {
			server.closeAllConnections();
			await new Promise((resolve) => server.close(resolve));
		}
	});
});
