// The Node transport: fetch over npm undici's dispatcher (an Agent of our own), without undici's
// fetch for the common case: exchange.ts speaks to the Agent directly and builds a global Response
// (the WHATWG layer of undici's fetch costs more than the whole request below it). What it does not
// do itself goes to undici's own fetch over the same Agent (delegate.ts). undici (7 or 8: an
// optional peer dependency) is loaded when a transport is created, so importing `surefetch/node`
// never fails; creating one without undici installed throws a message that says what to install.

import {createRequire} from 'node:module';
import {connectDeadline, connectPhaseSupport, ourTransport} from '../options.js';
import {hasZstd} from './decode.js';
import {fetchWithUndici, needsUndiciFetch, type UndiciFetch} from './delegate.js';
import {ControllerExchange, Exchange, type Dispatcher, type RedirectMode} from './exchange.js';
import type {Hop} from './redirect.js';
import {proxyDispatcher, proxyRoute, type ProxyUndici} from './proxy.js';
import {OutgoingBody} from './request-body.js';
import {isBadPort} from './url.js';

export interface NodeTransportOptions {
	/** Most connections per origin (undici `connections`). Default: no limit. */
	connections?: number;
	/** ms an idle keep-alive connection stays open (undici `keepAliveTimeout`). Default 4000. */
	keepAliveTimeout?: number;
	/** Requests pipelined per connection (undici `pipelining`). Default 1. */
	pipelining?: number;
	/** TLS options for every connection to an origin (through a proxy's tunnel too): `ca`, `cert`, `key`, `rejectUnauthorized`, `servername`, ... */
	tls?: Record<string, unknown>;
	/**
	 * Default: the environment's `https_proxy`/`http_proxy`/`no_proxy` (lowercase first), read as
	 * Node's fetch reads them with NODE_USE_ENV_PROXY. A URL forces one proxy for every request
	 * (its userinfo: the proxy's credentials); `false` (or `''`) for none.
	 */
	proxy?: string | URL | false;
}

export interface NodeTransport {
	(input: string | URL | Request, init?: RequestInit): Promise<Response>;
	/** Closes every pooled connection. */
	close(): Promise<void>;
	readonly [connectPhaseSupport]: true;
	readonly [ourTransport]: true;
}

type Agent = Dispatcher & {close(): Promise<void>};

/** What the transport needs of npm undici: its Agent, its fetch, which handler API it speaks, and for a proxy its proxy agents (proxy.ts). */
export interface Undici extends ProxyUndici {
	Agent: new (options: Record<string, unknown>) => Agent;
	fetch: UndiciFetch;
	/** The major version: 8 and later take only the controller handler API (onRequestStart, ...). */
	major: number;
}

function loadUndici(): Undici {
	const require = createRequire(import.meta.url);
	let undici: Omit<Undici, 'major'>;
	try {
		undici = require('undici') as Omit<Undici, 'major'>;
	} catch (error) {
		// undici 8 needs Node >= 22.19; undici 7 runs on every Node surefetch supports.
		const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
		const wanted = major > 22 || (major === 22 && minor >= 19) ? 'undici@8' : 'undici@7';
		throw new Error(`surefetch/node needs the npm package undici, 7.x or 8.x (an optional peer dependency): npm install ${wanted}`, {cause: error});
	}
	let version = '';
	try {
		version = (require('undici/package.json') as {version: string}).version;
	} catch {}
	// Unknown version: the controller API, which undici 7 also takes (through a wrapper).
	const {Agent, fetch, ProxyAgent, EnvHttpProxyAgent, Pool, Client, errors} = undici;
	return {Agent, fetch, ProxyAgent, EnvHttpProxyAgent, Pool, Client, errors, major: Number.parseInt(version, 10) || 8};
}

function checkCount(name: string, value: unknown, min: number): void {
	if (value === undefined) return;
	if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
}

export function createNodeTransport(options: NodeTransportOptions = {}): NodeTransport {
	checkCount('connections', options.connections, 1);
	checkCount('keepAliveTimeout', options.keepAliveTimeout, 1);
	checkCount('pipelining', options.pipelining, 0);
	if (options.tls !== undefined && (typeof options.tls !== 'object' || options.tls === null)) throw new TypeError('tls must be an object of TLS options');
	return transportOver(loadUndici(), options);
}

/** The transport over a given undici (the tests run it over both majors). Options are checked by the caller. */
export function transportOver(undici: Undici, options: NodeTransportOptions): NodeTransport {
	// undici 7 calls the classic callbacks directly; undici 8 knows only the controller form.
	const OwnExchange = undici.major >= 8 ? ControllerExchange : Exchange;
	// The proxy, if any: decided once, for the transport's lifetime (proxy.ts).
	const route = proxyRoute(options.proxy);
	// One agent per connect deadline: undici sets the connect timeout per agent, not per request.
	const agents = new Map<number | false, Agent>();
	const agentFor = (connect: number | false) => {
		let agent = agents.get(connect);
		if (!agent) {
			const pool = {connections: options.connections ?? null, keepAliveTimeout: options.keepAliveTimeout, pipelining: options.pipelining};
			agent = route.kind !== 'none'
				? proxyDispatcher(undici, route, pool, options.tls, connect)
				: new undici.Agent({...pool, connect: {...options.tls, ...(connect === false ? {} : {timeout: connect})}});
			agents.set(connect, agent);
		}
		return agent;
	};

	// `fetch.length` is 1, as the global fetch's (init is optional).
	const transport = ((input: string | URL | Request, init: TransportInit | undefined = undefined) => {
		let request: Request;
		try {
			// The Request is not given the signal: it would follow it with a listener that only its
			// collection removes (a signal shared by many calls would collect them). The Exchange
			// listens to the signal itself, and lets go when the request is over.
			request = input instanceof Request && !changesRequest(init) ? input : new Request(input, init?.signal ? {...init, signal: undefined} : init);
		} catch (error) {
			return Promise.reject(error);
		}
		const stream = request.body;
		// fetch refuses a Request whose body is gone, rather than sending nothing in its place.
		if (stream !== null && (request.bodyUsed || stream.locked)) return Promise.reject(new TypeError('Cannot construct a Request with a Request object that has already been used.'));
		const dispatcher = init?.dispatcher ?? undefined;
		if (dispatcher !== undefined && typeof (dispatcher as Partial<Dispatcher>).dispatch !== 'function') {
			return Promise.reject(new TypeError('fetch option `dispatcher` must be an undici Dispatcher (an object with a dispatch method)'));
		}
		const connect = dispatcher ? false : init?.[connectDeadline] ?? false;
		const url = new URL(request.url);
		const signal = init?.signal ?? request.signal;
		const cache = init?.cache ?? request.cache;
		const body = stream === null ? null : new OutgoingBody(request, stream);
		if (needsUndiciFetch(request, url.protocol)) return fetchWithUndici(undici.fetch, request, cache, body, dispatcher ?? agentFor(connect), signal);
		if (isBadPort(url)) return Promise.reject(new TypeError('fetch failed', {cause: new Error('bad port')}));
		const hop: Hop = {url, method: request.method, headers: headerList(request, url.protocol === 'https:', cache), body, redirects: 0, first: url, crossed: false};
		// A caller's dispatcher may come from either undici major: the controller form suits both.
		const Flavour = dispatcher ? ControllerExchange : OwnExchange;
		return new Promise<Response>((resolve, reject) => {
			new Flavour(hop, (dispatcher as Dispatcher | undefined) ?? agentFor(connect), request.redirect as RedirectMode, signal, connect, resolve, reject).start();
		});
	}) as NodeTransport;
	Object.defineProperties(transport, {
		name: {value: 'fetch'},
		close: {value: async () => {
			await Promise.all([...agents.values()].map((agent) => agent.close()));
			agents.clear();
		}},
		[connectPhaseSupport]: {value: true},
		[ourTransport]: {value: true},
	});
	return transport;
}

/** undici's `dispatcher` extension, and the connect deadline an attempt hands over (attempt.ts). */
type TransportInit = RequestInit & {dispatcher?: unknown; [connectDeadline]?: number | false};

/** An init that changes the Request itself (not just how it is sent) needs a new Request, as in fetch. */
function changesRequest(init: RequestInit | undefined): boolean {
	return init !== undefined && (init.method !== undefined || init.headers !== undefined || init.body !== undefined || init.redirect !== undefined
		|| init.integrity !== undefined || init.referrer !== undefined || init.referrerPolicy !== undefined || init.mode !== undefined
		|| init.credentials !== undefined || init.keepalive !== undefined);
}

// Node's fetch offers zstd where its own undici does (Node 26), when node:zlib can undo it.
const runtimeUndici = Number.parseInt(process.versions.undici ?? '0', 10);
const httpsEncodings = hasZstd && runtimeUndici >= 8 ? 'br, gzip, deflate, zstd' : 'br, gzip, deflate';

/**
 * The request's headers as undici takes them (a flat list), with what Node's fetch adds, in its
 * order: Accept, Accept-Language, Sec-Fetch-Mode (fetch's own: "cors", the only mode this path
 * takes), User-Agent, the cache mode's headers (a conditional request counts as `no-store`), and
 * Accept-Encoding (what decode.ts undoes; `identity` for a Range). Host is fetch's to set.
 * Names go out in lower case: a global Headers does not keep the case it was given.
 */
function headerList(request: Request, https: boolean, cache: RequestCache): string[] {
	const list: string[] = [];
	let accept = false;
	let language = false;
	let agent = false;
	let range = false;
	let encoding = -1;
	let pragma = false;
	let cacheControl = false;
	let conditional = false;
	for (const [name, value] of request.headers) {
		switch (name) {
			case 'host':
			case 'sec-fetch-mode':
				continue;
			case 'accept': accept = true; break;
			case 'accept-language': language = true; break;
			case 'accept-encoding': encoding = list.length + 1; break;
			case 'user-agent': agent = true; break;
			case 'range': range = true; break;
			case 'pragma': pragma = true; break;
			case 'cache-control': cacheControl = true; break;
			case 'if-modified-since':
			case 'if-none-match':
			case 'if-unmodified-since':
			case 'if-match':
			case 'if-range':
				conditional = true;
				break;
		}
		list.push(name, value);
	}
	if (!accept) list.push('accept', '*/*');
	if (!language) list.push('accept-language', '*');
	list.push('sec-fetch-mode', 'cors');
	if (!agent) list.push('user-agent', 'node');
	if (cache === 'default' && conditional) cache = 'no-store';
	if (cache === 'no-cache') {
		if (!cacheControl) list.push('cache-control', 'max-age=0');
	} else if (cache === 'no-store' || cache === 'reload') {
		if (!pragma) list.push('pragma', 'no-cache');
		if (!cacheControl) list.push('cache-control', 'no-cache');
	}
	// A range of encoded bytes means nothing once decoded.
	if (range) {
		if (encoding < 0) list.push('accept-encoding', 'identity');
		else list[encoding] += ', identity';
	} else if (encoding < 0) {
		list.push('accept-encoding', https ? httpsEncodings : 'gzip, deflate');
	}
	return list;
}
