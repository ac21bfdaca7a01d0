// surefetch/node's `proxy` option, against a proxy of our own on 127.0.0.1 (test/support/proxy.ts:
// absolute-form forwarding and CONNECT tunnels, counting what it saw) in front of the fault server.
// In this process over both undici majors: a forced proxy (`proxy: URL`) for http and https targets,
// its credentials (they reach the proxy and nothing else), each way a proxy fails, the pool, TLS and
// connect deadline through it. In child processes (the test's own environment stays untouched):
// the environment's https_proxy/http_proxy/no_proxy, held to Node's own fetch with NODE_USE_ENV_PROXY.
import {copyFileSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {createServer, type Server, type Socket} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {inspect} from 'node:util';
import * as undici8 from 'undici';
import * as undici7 from 'undici7';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {createClient, type ErrorEvent} from '../../src/index.js';
import {createNodeTransport} from '../../src/node/index.js';
import {ProxyError} from '../../src/node/proxy.js';
import {transportOver, type NodeTransport, type Undici} from '../../src/node/transport.js';
import {TLS_CERT} from '../fault-server/server.js';
import {runNodeChild} from '../support/child.js';
import {at, failure, fault, sleep} from '../support/fault.js';
import {basic, startProxy, type TestProxy} from '../support/proxy.js';

const flavour = (module: typeof undici8 | typeof undici7, major: number): Undici => {
	const {Agent, fetch, ProxyAgent, EnvHttpProxyAgent, Pool, Client, errors} = module as typeof undici8;
	return {Agent, fetch, ProxyAgent, EnvHttpProxyAgent, Pool, Client, errors, major} as unknown as Undici;
};
const flavours: Array<[string, Undici]> = [['undici 8', flavour(undici8, 8)], ['undici 7', flavour(undici7, 7)]];

// Credentials that need percent-encoding in a URL ('/' and '@'): undici decodes them.
const user = 'alice';
const password = 's3cr3t/pa55w0rd@x';
const secrets = [user, 'pa55w0rd', encodeURIComponent(password), Buffer.from(`${user}:${password}`).toString('base64')];

const httpPort = new URL(fault.url).port;
const tlsPort = new URL(fault.tlsUrl).port;

// A TCP server that accepts and never says a word: a TLS handshake to it never completes.
let silent: Server;
let silentPort = 0;
const silentSockets = new Set<Socket>();
let proxy: TestProxy;
let guarded: TestProxy;
beforeAll(async () => {
	silent = createServer((socket) => {
		silentSockets.add(socket);
		socket.on('close', () => silentSockets.delete(socket));
	});
	await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
	silentPort = (silent.address() as {port: number}).port;
	proxy = await startProxy();
	guarded = await startProxy({auth: basic(user, password)});
});
afterAll(async () => {
	for (const socket of silentSockets) socket.destroy();
	await new Promise((resolve) => silent.close(resolve));
	await proxy.close();
	await guarded.close();
});
afterEach(() => {
	proxy.mode = 'ok';
	guarded.mode = 'ok';
	proxy.reset();
	guarded.reset();
});

/** Every text a person or a log could see of an error and of each error in its cause chain. */
function forms(value: unknown): string[] {
	const out: string[] = [];
	const seen = new Set<unknown>();
	for (let level: unknown[] = [value]; level.length > 0;) {
		const next: unknown[] = [];
		for (const item of level) {
			if (typeof item !== 'object' || item === null || seen.has(item)) continue;
			seen.add(item);
			const error = item as Error & {toJSON?: () => unknown; errors?: unknown};
			out.push(String(error), String(error.message), String(error.stack), JSON.stringify(error) ?? '', JSON.stringify(error.toJSON?.() ?? null), inspect(error, {depth: 12}), inspect({wrapped: error}, {depth: 12}));
			next.push(error.cause);
			if (Array.isArray(error.errors)) next.push(...error.errors);
		}
		level = next;
	}
	return out;
}

function expectNoSecret(value: unknown): void {
	for (const text of forms(value)) for (const secret of secrets) expect(text, `${secret} in ${text.slice(0, 400)}`).not.toContain(secret);
}

/** The ProxyError in an error's cause chain, if any. */
function proxyErrorOf(error: unknown): ProxyError | undefined {
	for (let current = error as {cause?: unknown} | undefined, depth = 0; current && depth < 8; depth++) {
		if (current instanceof ProxyError) return current;
		current = current.cause as typeof current;
	}
	return undefined;
}

async function until(check: () => boolean, ms = 3000): Promise<boolean> {
	const end = performance.now() + ms;
	while (!check() && performance.now() < end) await sleep(20);
	return check();
}

describe.each(flavours)('surefetch/node through a proxy, over %s', (_name, undici) => {
	const transports: NodeTransport[] = [];
	const over = (options: Parameters<typeof transportOver>[1]) => {
		const transport = transportOver(undici, options);
		transports.push(transport);
		return transport;
	};
	afterEach(async () => {
		await Promise.all(transports.splice(0).map((transport) => transport.close()));
	});

	it('plain HTTP goes to the proxy in absolute-form: the response (status text included) comes back whole', async () => {
		const api = createClient({fetch: over({proxy: proxy.url}), retry: 0});
		const response = await api.get(at('/status-line?code=200&text=Fine%20Indeed'));
		expect([response.status, response.statusText]).toEqual([200, 'Fine Indeed']);
		expect(await api.get(at('/charset/gbk?as=json')).json()).toBeTruthy();
		expect(proxy.seen.map((s) => [s.method, s.target])).toEqual([
			['GET', at('/status-line?code=200&text=Fine%20Indeed')],
			['GET', at('/charset/gbk?as=json')],
		]);
		// A made-up host name: only the proxy resolves it (ours sends everything to 127.0.0.1).
		const echoed = await api.get(`http://api.example.test:${httpPort}/echo`).json<{headers: Record<string, string>}>();
		expect(echoed.headers.host).toBe(`api.example.test:${httpPort}`);
	});

	it('HTTPS goes through a CONNECT tunnel, with the TLS options to the origin (`ca`) applied through it', async () => {
		const api = createClient({fetch: over({proxy: proxy.url, tls: {ca: TLS_CERT}}), retry: 0});
		expect(await api.get(`${fault.tlsUrl}/ok`).json()).toEqual({ok: true});
		expect(await api.get(`https://localhost:${tlsPort}/ok`).json()).toEqual({ok: true});
		expect(proxy.seen.map((s) => [s.method, s.target])).toEqual([['CONNECT', `127.0.0.1:${tlsPort}`], ['CONNECT', `localhost:${tlsPort}`]]);
		// Without the certificate the origin is not trusted: a TLS failure of the origin, not the proxy's.
		const strict = createClient({fetch: over({proxy: proxy.url}), retry: 0});
		const error = await failure(strict.get(`${fault.tlsUrl}/ok`));
		expect(error).toMatchObject({kind: 'network', code: 'tls', phase: 'headers'});
		expect(proxy.seen.at(-1)).toMatchObject({method: 'CONNECT'});
	});

	it('the proxy URL\'s userinfo reaches the proxy as Proxy-Authorization (Basic, decoded), on CONNECT and absolute-form, and never the origin', async () => {
		const api = createClient({fetch: over({proxy: guarded.urlWith(user, password), tls: {ca: TLS_CERT}}), retry: 0});
		const echoed = await api.get(at('/echo')).json<{headers: Record<string, string>}>();
		expect(echoed.headers['proxy-authorization']).toBeUndefined();
		expect(await api.get(`${fault.tlsUrl}/ok`).json()).toEqual({ok: true});
		expect(guarded.seen.map((s) => [s.method, s.auth])).toEqual([['GET', basic(user, password)], ['CONNECT', basic(user, password)]]);
	});

	it('a 407 from the proxy is NetworkError proxy, for CONNECT and for an absolute-form request; no credential shows anywhere', async () => {
		const events: ErrorEvent[] = [];
		const api = createClient({fetch: over({proxy: guarded.urlWith(user, 'wrong-pa55w0rd'), tls: {ca: TLS_CERT}}), retry: 0, on: {error: (event) => events.push(event)}});
		for (const url of [at('/ok'), `${fault.tlsUrl}/ok`]) {
			const error = await failure(api.get(url));
			expect(error, url).toMatchObject({kind: 'network', code: 'proxy', phase: 'headers', retryable: true});
			expect(proxyErrorOf(error), url).toMatchObject({statusCode: 407, code: 'UND_ERR_PRX_CONN'});
			expectNoSecret(error);
		}
		expect(guarded.seen.map((s) => s.method)).toEqual(['GET', 'CONNECT']);
		expect(events).toHaveLength(2);
		for (const event of events) expectNoSecret(event);
		for (const text of events.map((event) => JSON.stringify(event))) for (const secret of secrets) expect(text).not.toContain(secret);
	});

	it('a proxy that refuses the connection (a closed port) is NetworkError proxy, and says ECONNREFUSED', async () => {
		const api = createClient({fetch: over({proxy: fault.refusedUrl.replace('http://', `http://${user}:${encodeURIComponent(password)}@`)}), retry: 0});
		for (const url of [at('/ok'), `${fault.tlsUrl}/ok`]) {
			const error = await failure(api.get(url));
			expect(error, url).toMatchObject({kind: 'network', code: 'proxy', phase: 'headers'});
			expect(error.message).toContain('ECONNREFUSED');
			expect(proxyErrorOf(error)).toBeDefined();
			expectNoSecret(error);
		}
	});

	it('a proxy that resets (on accept, or once it read the request) is NetworkError proxy, at once (undici 7 would retry a cut CONNECT forever)', async () => {
		const api = createClient({fetch: over({proxy: guarded.urlWith(user, password)}), retry: 0, timeout: {total: 10_000}});
		for (const mode of ['reset-on-accept', 'reset'] as const) {
			guarded.mode = mode;
			for (const url of [at('/ok'), `${fault.tlsUrl}/ok`]) {
				const started = performance.now();
				const error = await failure(api.get(url));
				expect(error, `${mode} ${url}`).toMatchObject({kind: 'network', code: 'proxy', phase: 'headers'});
				expect(performance.now() - started).toBeLessThan(5000);
				expectNoSecret(error);
			}
		}
	});

	it('a proxy that breaks the protocol, or answers 502 to CONNECT, is NetworkError proxy; a 502 to an absolute-form request is a response: HttpError 502', async () => {
		const api = createClient({fetch: over({proxy: proxy.url}), retry: 0});
		proxy.mode = 'garbage';
		for (const url of [at('/ok'), `${fault.tlsUrl}/ok`]) expect(await failure(api.get(url)), url).toMatchObject({kind: 'network', code: 'proxy', phase: 'headers'});
		proxy.mode = '502';
		const tunnel = await failure(api.get(`${fault.tlsUrl}/ok`));
		expect(tunnel).toMatchObject({kind: 'network', code: 'proxy'});
		expect(proxyErrorOf(tunnel)?.statusCode).toBe(502);
		expect(await failure(api.get(at('/ok')))).toMatchObject({kind: 'http', status: 502, statusText: 'Bad Gateway'});
	});

	it('what the origin does through a working proxy keeps its own name: a body cut once the response came, a timeout, an HTTP error', async () => {
		const api = createClient({fetch: over({proxy: proxy.url}), retry: 0, timeout: {headers: 300}});
		// The proxy relays the response, then cuts its connection when the origin's breaks.
		const cut = await failure(api.get(at('/reset-mid-body?framing=cl')).text());
		expect(cut).toMatchObject({kind: 'network', phase: 'body'});
		expect(cut).not.toMatchObject({code: 'proxy'});
		expect(await failure(api.get(at('/stall-before-headers')))).toMatchObject({kind: 'timeout', phase: 'headers', timeout: 300});
		expect(await failure(api.get(at('/status/503')))).toMatchObject({kind: 'http', status: 503});
	});

	it('redirects are followed through the proxy, each hop a request of its own', async () => {
		const api = createClient({fetch: over({proxy: proxy.url}), retry: 0});
		const response = await api.get(at('/redirect?to=/ok'));
		expect([response.status, response.redirected, response.url]).toEqual([200, true, at('/ok')]);
		expect(proxy.seen.map((s) => s.target)).toEqual([at('/redirect?to=/ok'), at('/ok')]);
	});

	it('timeout.connect covers the way to a tunnelled origin: a proxy that never answers CONNECT, or an origin that never completes TLS, is TimeoutError connect', async () => {
		const api = createClient({fetch: over({proxy: proxy.url, tls: {ca: TLS_CERT}}), retry: 0, timeout: {connect: 300, headers: 8000}});
		proxy.mode = 'silent';
		let started = performance.now();
		expect(await failure(api.get(`${fault.tlsUrl}/ok`))).toMatchObject({kind: 'timeout', phase: 'connect', timeout: 300, retryable: true});
		expect(performance.now() - started).toBeLessThan(300 + 2500);
		// The CONNECT left behind is aborted: its connection to the proxy closes. (undici 7 then opens
		// another, idle and unref'd, for the aborted request it puts back in its queue.)
		expect(await until(() => proxy.seen[0]?.closed === true)).toBe(true);
		proxy.mode = 'ok';
		started = performance.now();
		expect(await failure(api.get(`https://127.0.0.1:${silentPort}/`))).toMatchObject({kind: 'timeout', phase: 'connect', timeout: 300});
		expect(performance.now() - started).toBeLessThan(300 + 2500);
		expect(proxy.seen.map((s) => [s.method, s.target])).toEqual([['CONNECT', `127.0.0.1:${tlsPort}`], ['CONNECT', `127.0.0.1:${silentPort}`]]);
		expect(await until(() => proxy.seen[1]?.closed === true)).toBe(true);
	});

	it('timeout.connect in absolute-form covers the connection to the proxy; once it is up, a proxy that never answers is a headers timeout', async () => {
		const api = createClient({fetch: over({proxy: proxy.url}), retry: 0, timeout: {connect: 300, headers: 600}});
		proxy.mode = 'silent';
		const started = performance.now();
		expect(await failure(api.get(at('/ok')))).toMatchObject({kind: 'timeout', phase: 'headers', timeout: 600});
		expect(performance.now() - started).toBeLessThan(600 + 2500);
	});

	it('pool settings hold through the proxy: with connections: 1 the proxy sees one connection at a time (one tunnel), without it several', async () => {
		const one = createClient({fetch: over({proxy: proxy.url, connections: 1, tls: {ca: TLS_CERT}}), retry: 0});
		for (const base of [fault.url, fault.tlsUrl]) {
			proxy.reset();
			const statuses = await Promise.all([0, 1, 2, 3].map((i) => one.get(`${base}/delay?ms=100&i=${i}`).then(async (r) => (await r.arrayBuffer(), r.status))));
			expect(statuses, base).toEqual([200, 200, 200, 200]);
			expect(proxy.maxOpen, base).toBe(1);
			expect(proxy.accepted, base).toBe(1);
		}
		expect(proxy.seen.map((s) => s.method)).toEqual(['CONNECT']);
		const many = createClient({fetch: over({proxy: proxy.url}), retry: 0});
		proxy.reset();
		await Promise.all([0, 1, 2, 3].map((i) => many.get(at(`/delay?ms=300&i=${i}`)).then((r) => r.arrayBuffer())));
		expect(proxy.maxOpen).toBeGreaterThan(1);
	});

	it('close() closes the connections to the proxy; a caller\'s own dispatcher goes around it', async () => {
		const transport = over({proxy: proxy.url, tls: {ca: TLS_CERT}});
		const api = createClient({fetch: transport, retry: 0});
		await api.get(at('/ok')).json();
		await api.get(`${fault.tlsUrl}/ok`).json();
		expect(proxy.open).toBeGreaterThan(0);
		await transport.close();
		expect(await until(() => proxy.open === 0)).toBe(true);
		proxy.reset();
		const own = new undici8.Agent();
		const response = await over({proxy: proxy.url})(at('/ok'), {dispatcher: own} as RequestInit);
		expect(response.status).toBe(200);
		await response.arrayBuffer();
		await own.close();
		expect(proxy.seen).toEqual([]);
	});

	it('what the transport leaves to undici\'s own fetch (here a referrer) goes through the proxy too', async () => {
		const response = await over({proxy: proxy.url})(at('/ok'), {referrer: 'http://127.0.0.1/page'});
		expect(await response.json()).toEqual({ok: true});
		expect(proxy.seen.map((s) => [s.method, s.target])).toEqual([['GET', at('/ok')]]);
	});
});

describe('README example: a proxy with credentials', () => {
	it('runs as written (the built package, by name) through a proxy that wants those credentials, and says `proxy` with others', async () => {
		const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
		const source = /<!-- example:proxy -->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
		expect(source).toBeDefined();
		const corp = await startProxy({auth: basic('user', 'pa55w0rd')});
		try {
			const dir = new URL('../../test-output/', import.meta.url);
			mkdirSync(dir, {recursive: true});
			const here = source!.replace('proxy.corp:3128', `127.0.0.1:${corp.port}`);
			const files = [new URL('proxy-example.mjs', dir), new URL('proxy-example-wrong.mjs', dir)];
			writeFileSync(files[0]!, here);
			writeFileSync(files[1]!, here.replace('user:pa55w0rd@', 'user:wr0ng@'));
			const result = await runNodeChild(`
				const right = await import(${JSON.stringify(files[0]!.href)});
				const wrong = await import(${JSON.stringify(files[1]!.href)});
				console.log(JSON.stringify([await right.status(${JSON.stringify(at('/ok'))}), await right.status(${JSON.stringify(`${fault.tlsUrl}/ok`)}), await wrong.status(${JSON.stringify(at('/ok'))})]));
				await Promise.all([right.transport.close(), wrong.transport.close()]);
			`, {limitMs: 30_000, env: {PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: fileURLToPath(new URL('../fault-server/cert/cert.pem', import.meta.url))}});
			expect(result.stderr).toBe('');
			const [http, https, refused] = JSON.parse(result.stdout) as [number, number, string];
			expect([http, https]).toEqual([200, 200]);
			expect(refused).toMatch(/^proxy: GET http:\/\/127\.0\.0\.1:\d+\/ok: network error \(proxy\)/);
			expect(refused).not.toContain('wr0ng');
			expect(corp.seen.map((s) => [s.method, s.auth])).toEqual([['GET', basic('user', 'pa55w0rd')], ['CONNECT', basic('user', 'pa55w0rd')], ['GET', basic('user', 'wr0ng')]]);
		} finally {
			await corp.close();
		}
	});
});

describe('the proxy option is checked when the transport is made', () => {
	it('a URL of http: or https:, or false; a bad one is a TypeError that never quotes credentials', () => {
		expect(() => createNodeTransport({proxy: 'not a url'})).toThrow(TypeError);
		expect(() => createNodeTransport({proxy: 'socks5://127.0.0.1:1080'})).toThrow(/http: or https:/);
		expect(() => createNodeTransport({proxy: 42 as never})).toThrow(TypeError);
		expect(() => createNodeTransport({proxy: false})).not.toThrow();
		expect(() => createNodeTransport({proxy: ''})).not.toThrow();
		expect(() => createNodeTransport({proxy: new URL(proxy.url)})).not.toThrow();
		for (const bad of [`http://${user}:${encodeURIComponent(password)}@exa mple.com:3128`, `${user}:${encodeURIComponent(password)}@proxy.example:3128`]) {
			let error: unknown;
			try {
				createNodeTransport({proxy: bad});
			} catch (e) {
				error = e;
			}
			expect(error).toBeInstanceOf(TypeError);
			expect(String(error)).toMatch(/^TypeError: proxy must be an http: or https: proxy URL/);
			expectNoSecret(error);
		}
	});
});

// --- The environment, in child processes (the built package, as users run it) ---
//
// One child runs a list of cases in a row: before each it sets its own process.env as the case says,
// makes a transport (which reads https_proxy/http_proxy then; undici reads no_proxy whenever it
// changes), requests each URL, and asks each proxy what it saw (GET /__seen, straight to it).

const dist = fileURLToPath(new URL('../../dist/node/', import.meta.url));
const nodeModules = fileURLToPath(new URL('../../node_modules/', import.meta.url));
const certPath = fileURLToPath(new URL('../fault-server/cert/cert.pem', import.meta.url));
/** The built entry, as is (undici 8), or copied beside an undici 7 (a node_modules of links). */
const builds: Record<'8' | '7', string> = {'8': dist, '7': ''};
let copy = '';
beforeAll(() => {
	copy = mkdtempSync(join(tmpdir(), 'surefetch-proxy-undici7-'));
	for (const file of readdirSync(dist)) if (file.endsWith('.js')) copyFileSync(join(dist, file), join(copy, file));
	writeFileSync(join(copy, 'package.json'), '{"type": "module"}');
	mkdirSync(join(copy, 'node_modules'));
	for (const [name, target] of [['undici', 'undici7'], ['ky', 'ky'], ['abort-controller-x', 'abort-controller-x']]) symlinkSync(join(nodeModules, target!), join(copy, 'node_modules', name!), 'dir');
	builds['7'] = copy;
});
afterAll(() => {
	if (copy) rmSync(copy, {recursive: true, force: true});
});

interface Outcome {
	url: string;
	status?: number;
	kind?: string;
	code?: string;
}

interface Case {
	name: string;
	/** Variables to set ('PROXY', 'OTHER': the two proxies' URLs) or, with null, to unset. */
	env: Record<string, string | null>;
	urls: string[];
	options?: Record<string, unknown>;
}

interface CaseResult {
	name: string;
	outcomes: Outcome[];
	/** host:port of what each proxy saw during the case. */
	seen: {proxy: string[]; other: string[]};
	/** createNodeTransport threw. */
	error?: string;
}

/**
 * Runs the cases in one child whose environment starts as `env`: through createNodeTransport over
 * undici `major`, or (`oracle`) through Node's own fetch with NODE_USE_ENV_PROXY=1 (whose
 * dispatcher reads https_proxy/http_proxy once, at startup).
 */
async function inChild(cases: Case[], {env = {}, major = '8', oracle = false}: {env?: Record<string, string>; major?: '8' | '7'; oracle?: boolean}, proxies: {proxy: TestProxy; other: TestProxy}): Promise<CaseResult[]> {
	const value = (v: string | null) => (v === 'PROXY' ? proxies.proxy.url : v === 'OTHER' ? proxies.other.url : v);
	const resolved = cases.map((c) => ({...c, env: Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, value(v)]))}));
	const start = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, value(v)!]));
	const result = await runNodeChild(`
		import net from 'node:net';
		const {createNodeTransport} = await import(${JSON.stringify(pathToFileURL(join(builds[major], 'node.js')).href)});
		const {createClient} = await import(${JSON.stringify(pathToFileURL(join(builds[major], 'index.js')).href)});
		// What a proxy saw, asked over a bare socket (no proxy setting of Node's can touch it).
		const seenBy = (port) => new Promise((resolve, reject) => {
			let data = '';
			const socket = net.connect(port, '127.0.0.1', () => socket.end('GET /__seen HTTP/1.0\\r\\n\\r\\n'));
			socket.on('data', (chunk) => data += chunk);
			socket.on('end', () => resolve(JSON.parse(data.slice(data.indexOf('\\r\\n\\r\\n') + 4))));
			socket.on('error', reject);
		});
		const results = [];
		for (const c of ${JSON.stringify(resolved)}) {
			for (const [name, value] of Object.entries(c.env)) {
				if (value === null) delete process.env[name];
				else process.env[name] = value;
			}
			let transport;
			try {
				transport = ${oracle ? 'undefined' : 'createNodeTransport(c.options ?? {})'};
			} catch (error) {
				results.push({name: c.name, outcomes: [], seen: {proxy: [], other: []}, error: String(error)});
				continue;
			}
			const api = createClient({fetch: transport, retry: 0, timeout: {total: 8000}});
			const outcomes = [];
			for (const url of c.urls) {
				try {
					// A connection per request: one kept alive would carry the next case's request unseen.
					const response = await api.get(url, {headers: {connection: 'close'}});
					await response.arrayBuffer();
					outcomes.push({url, status: response.status});
				} catch (error) {
					outcomes.push({url, kind: error.kind, code: error.code});
				}
			}
			await transport?.close();
			results.push({name: c.name, outcomes, seen: {proxy: await seenBy(${proxies.proxy.port}), other: await seenBy(${proxies.other.port})}});
		}
		console.log(JSON.stringify(results));
	`, {limitMs: 60_000, env: {PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: certPath, ...(oracle ? {NODE_USE_ENV_PROXY: '1'} : {}), ...start}});
	expect(result.code, result.stderr).toBe(0);
	return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as CaseResult[];
}

const local = `http://127.0.0.1:${httpPort}/ok`;
const localhost = `http://localhost:${httpPort}/ok`;
const tls = `https://localhost:${tlsPort}/ok`;
const tlsIp = `https://127.0.0.1:${tlsPort}/ok`;
const sub = `http://api.example.test:${httpPort}/ok`;
const apex = `http://example.test:${httpPort}/ok`;
const other = `http://other.test:${httpPort}/ok`;

/** Through the proxy, or straight: straight to a made-up name fails on DNS, to a loopback one succeeds. */
function expectRoute(result: CaseResult | undefined, expected: Record<string, 'proxy' | 'other' | 'direct'>): void {
	expect(result?.error, result?.name).toBeUndefined();
	const {name, outcomes, seen} = result!;
	for (const [url, way] of Object.entries(expected)) {
		const host = new URL(url).host;
		const outcome = outcomes.find((o) => o.url === url);
		const label = `${name}: ${url} (${way})`;
		if (way === 'direct') {
			expect([...seen.proxy, ...seen.other], label).not.toContain(host);
			expect(outcome?.status === 200 || outcome?.code === 'dns', `${label}: ${JSON.stringify(outcome)}`).toBe(true);
		} else {
			expect(seen[way], label).toContain(host);
			expect(seen[way === 'proxy' ? 'other' : 'proxy'], label).not.toContain(host);
			expect(outcome, label).toMatchObject({status: 200});
		}
	}
}

describe('the environment\'s proxies (child processes with the variables set)', () => {
	// A second proxy; and a pair of our own for the oracle's other child, which runs alongside.
	let second: TestProxy;
	let third: TestProxy;
	let fourth: TestProxy;
	beforeAll(async () => {
		[second, third, fourth] = await Promise.all([startProxy(), startProxy(), startProxy()]);
	});
	afterAll(() => Promise.all([second, third, fourth].map((p) => p.close())));
	const both = () => ({proxy, other: second});
	const unset = {http_proxy: null, HTTP_PROXY: null, https_proxy: null, HTTPS_PROXY: null, no_proxy: null, NO_PROXY: null};

	it('the variables as undici reads them: lowercase first, HTTPS falling back to the http proxy, no_proxy with a host or host:port; proxy: false and a forced proxy', async () => {
		const results = await inChild([
			{name: 'lowercase beats uppercase', env: {...unset, http_proxy: 'PROXY', HTTP_PROXY: 'OTHER', https_proxy: 'PROXY', HTTPS_PROXY: 'OTHER'}, urls: [local, tls]},
			{name: 'uppercase alone; https falls back to http_proxy', env: {...unset, HTTP_PROXY: 'OTHER'}, urls: [local, tls]},
			{name: 'a lowercase name set to "" wins', env: {...unset, http_proxy: 'PROXY', https_proxy: '', HTTPS_PROXY: 'OTHER'}, urls: [tls]},
			{name: 'no_proxy: a host, any port', env: {...unset, http_proxy: 'PROXY', https_proxy: 'PROXY', no_proxy: 'localhost'}, urls: [local, localhost, tls]},
			{name: 'no_proxy: host:port', env: {...unset, http_proxy: 'PROXY', https_proxy: 'PROXY', no_proxy: `127.0.0.1:${httpPort}`}, urls: [local, localhost, tlsIp]},
			{name: 'no_proxy beats NO_PROXY', env: {...unset, http_proxy: 'PROXY', no_proxy: 'localhost', NO_PROXY: '127.0.0.1'}, urls: [local, localhost]},
			{name: 'proxy: false', env: {...unset, http_proxy: 'PROXY', https_proxy: 'PROXY'}, urls: [local, tls], options: {proxy: false}},
			{name: 'a forced proxy, whatever no_proxy says', env: {...unset, http_proxy: 'PROXY', https_proxy: 'PROXY', no_proxy: '*'}, urls: [local, tls], options: {proxy: second.url}},
		], {}, both());
		expectRoute(results[0], {[local]: 'proxy', [tls]: 'proxy'});
		expectRoute(results[1], {[local]: 'other', [tls]: 'other'});
		expectRoute(results[2], {[tls]: 'proxy'});
		expectRoute(results[3], {[local]: 'proxy', [localhost]: 'direct', [tls]: 'direct'});
		expectRoute(results[4], {[local]: 'direct', [localhost]: 'proxy', [tlsIp]: 'proxy'});
		expectRoute(results[5], {[local]: 'proxy', [localhost]: 'direct'});
		expectRoute(results[6], {[local]: 'direct', [tls]: 'direct'});
		expectRoute(results[7], {[local]: 'other', [tls]: 'other'});
	});

	it.each(['8', '7'] as const)('no_proxy with domains, by the rules of undici %s: a leading dot, a bare domain, `*.` (the apex too in undici 7), `*`', async (major) => {
		const env = {http_proxy: 'PROXY', https_proxy: 'PROXY'};
		const results = await inChild([
			{name: 'a leading dot', env: {no_proxy: '.example.test'}, urls: [sub, apex, other]},
			{name: 'a bare domain', env: {no_proxy: 'example.test'}, urls: [sub, apex, other]},
			{name: 'a wildcard', env: {no_proxy: '*.example.test'}, urls: [sub, apex, other]},
			{name: '*', env: {no_proxy: '*'}, urls: [local, tls, sub]},
		], {env, major}, both());
		expectRoute(results[0], {[sub]: 'direct', [apex]: 'direct', [other]: 'proxy'});
		expectRoute(results[1], {[sub]: 'direct', [apex]: 'direct', [other]: 'proxy'});
		expectRoute(results[2], {[sub]: 'direct', [apex]: major === '8' ? 'proxy' : 'direct', [other]: 'proxy'});
		expectRoute(results[3], {[local]: 'direct', [tls]: 'direct', [sub]: 'direct'});
	});

	it('a proxy variable that is not an http(s) URL: createNodeTransport throws a TypeError naming it, without its credentials', async () => {
		const [result] = await inChild([{name: 'invalid', env: {https_proxy: `http://${user}:${encodeURIComponent(password)}@exa mple.com:3128`}, urls: [local]}], {}, both());
		expect(result!.error).toMatch(/^TypeError: https_proxy must be an http: or https: proxy URL/);
		for (const secret of secrets) expect(result!.error).not.toContain(secret);
	});

	// The oracle: Node's own fetch with NODE_USE_ENV_PROXY=1 sends each URL the same way (through
	// the proxy or not; Node 22 and 24 tunnel plain HTTP too, hence host:port). Its bundled undici is
	// 6 on Node 22, whose domain rules differ (see README): those cases are left out there.
	it('routes every URL as Node\'s own fetch with NODE_USE_ENV_PROXY does', async () => {
		const bundled = Number.parseInt(process.versions.undici ?? '0', 10);
		const urls = [local, localhost, tls, tlsIp, sub, apex, other];
		const cases: Case[] = [
			{name: 'no no_proxy', env: {}, urls},
			{name: 'a host', env: {no_proxy: 'localhost'}, urls},
			{name: 'a host:port', env: {no_proxy: `127.0.0.1:${httpPort}`}, urls},
			{name: 'a list, and NO_PROXY loses', env: {no_proxy: `other.test, 127.0.0.1:${tlsPort}`, NO_PROXY: 'localhost'}, urls},
			...(bundled >= 7 ? [
				{name: 'a leading dot', env: {no_proxy: '.example.test', NO_PROXY: null}, urls},
				{name: 'a bare domain', env: {no_proxy: 'example.test'}, urls},
				{name: 'a wildcard domain', env: {no_proxy: '*.example.test'}, urls},
			] : []),
			{name: '*', env: {no_proxy: '*'}, urls},
		];
		// The uppercase names, set too, must lose: the second proxy sees nothing.
		const env = {http_proxy: 'PROXY', https_proxy: 'PROXY', HTTP_PROXY: 'OTHER', HTTPS_PROXY: 'OTHER'};
		const [theirs, ours] = await Promise.all([inChild(cases, {env, oracle: true}, both()), inChild(cases, {env, major: bundled === 7 ? '7' : '8'}, {proxy: third, other: fourth})]);
		expect(theirs.map((r) => r.name)).toEqual(cases.map((c) => c.name));
		// Node's fetch did read the environment: with no no_proxy, everything went through the proxy.
		expect(theirs[0]!.seen.proxy).toHaveLength(urls.length);
		for (const [i, theirResult] of theirs.entries()) {
			const ourResult = ours[i]!;
			const label = `${theirResult.name} (Node ${process.versions.node}, undici ${bundled})`;
			expect(new Set(ourResult.seen.proxy), label).toEqual(new Set(theirResult.seen.proxy));
			expect([ourResult.seen.other, theirResult.seen.other], label).toEqual([[], []]);
			expect(ourResult.outcomes.map((o) => o.status ?? o.code), label).toEqual(theirResult.outcomes.map((o) => o.status ?? o.code));
		}
	});
});
