// The Node transport: fetch over npm undici's dispatcher (an Agent of our own), without undici's
// fetch: exchange.ts speaks to the Agent directly and builds a global Response (the WHATWG layer of
// undici's fetch costs more than the whole request below it). undici is loaded when a transport is
// created, so importing `surefetch/node` never fails; creating one without undici installed throws
// a message that says what to install.

import {createRequire} from 'node:module';
import {connectDeadline, connectPhaseSupport, ourTransport} from '../options.js';
import {Exchange, type Dispatcher, type RedirectMode} from './exchange.js';
import type {Hop} from './redirect.js';

export interface NodeTransportOptions {
	/** Most connections per origin (undici `connections`). Default: no limit. */
	connections?: number;
	/** ms an idle keep-alive connection stays open (undici `keepAliveTimeout`). Default 4000. */
	keepAliveTimeout?: number;
	/** Requests pipelined per connection (undici `pipelining`). Default 1. */
	pipelining?: number;
	/** TLS options for every connection: `ca`, `cert`, `key`, `rejectUnauthorized`, `servername`, ... */
	tls?: Record<string, unknown>;
}

export interface NodeTransport {
	(input: string | URL | Request, init?: RequestInit): Promise<Response>;
	/** Closes every pooled connection. */
	close(): Promise<void>;
	readonly [connectPhaseSupport]: true;
	readonly [ourTransport]: true;
}

type Agent = Dispatcher & {close(): Promise<void>};

interface Undici {
	Agent: new (options: Record<string, unknown>) => Agent;
}

function loadUndici(): Undici {
	try {
		return createRequire(import.meta.url)('undici') as Undici;
	} catch (error) {
		throw new Error('surefetch/node needs the npm package undici 7.x (an optional peer dependency): npm install undici@7', {cause: error});
	}
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
	const undici = loadUndici();
	// One agent per connect deadline: undici sets the connect timeout per agent, not per request.
	const agents = new Map<number | false, Agent>();
	const agentFor = (connect: number | false) => {
		let agent = agents.get(connect);
		if (!agent) {
			agent = new undici.Agent({
				connections: options.connections ?? null,
				keepAliveTimeout: options.keepAliveTimeout,
				pipelining: options.pipelining,
				connect: {...options.tls, ...(connect === false ? {} : {timeout: connect})},
			});
			agents.set(connect, agent);
		}
		return agent;
	};

	const transport = ((input: string | URL | Request, init?: TransportInit) => {
		let request: Request;
		try {
			request = input instanceof Request && !changesRequest(init) ? input : new Request(input, init);
		} catch (error) {
			return Promise.reject(error);
		}
		const connect = init?.[connectDeadline] ?? false;
		const url = new URL(request.url);
		const {method} = request;
		const hop: Hop = {url, method, headers: headerList(request, url.protocol === 'https:', init?.cache ?? request.cache), body: null, redirects: 0};
		const body = method === 'GET' || method === 'HEAD' ? null : request.body;
		const signal = init?.signal ?? request.signal;
		return new Promise<Response>((resolve, reject) => {
			new Exchange(hop, agentFor(connect), request.redirect as RedirectMode, signal, connect, resolve, reject).start(body ? bodyOf(body) : undefined);
		});
	}) as NodeTransport;
	Object.defineProperties(transport, {
		close: {value: async () => {
			await Promise.all([...agents.values()].map((agent) => agent.close()));
			agents.clear();
		}},
		[connectPhaseSupport]: {value: true},
		[ourTransport]: {value: true},
	});
	return transport;
}

type TransportInit = RequestInit & {[connectDeadline]?: number | false};

/** An init that changes the Request itself (not just how it is sent) needs a new Request, as in fetch. */
function changesRequest(init: RequestInit | undefined): boolean {
	return init !== undefined && (init.method !== undefined || init.headers !== undefined || init.body !== undefined || init.redirect !== undefined);
}

/**
 * The request's headers as undici takes them (a flat list), with what fetch adds when they are
 * missing: Accept, Accept-Encoding (what decode.ts undoes), User-Agent, and for `cache: 'no-store'`
 * or `'reload'` Pragma and Cache-Control. Host is fetch's to set, not the caller's.
 */
function headerList(request: Request, https: boolean, cache: RequestCache): string[] {
	const list: string[] = [];
	let accept = false;
	let encoding = false;
	let agent = false;
	let range = false;
	let pragma = false;
	let cacheControl = false;
	for (const [name, value] of request.headers) {
		switch (name) {
			case 'host': continue;
			case 'accept': accept = true; break;
			case 'accept-encoding': encoding = true; break;
			case 'user-agent': agent = true; break;
			case 'range': range = true; break;
			case 'pragma': pragma = true; break;
			case 'cache-control': cacheControl = true; break;
		}
		list.push(name, value);
	}
	if (!accept) list.push('accept', '*/*');
	// A range of encoded bytes means nothing once decoded.
	if (!encoding) list.push('accept-encoding', range ? 'identity' : https ? 'br, gzip, deflate' : 'gzip, deflate');
	if (!agent) list.push('user-agent', 'node');
	if (cache === 'no-store' || cache === 'reload') {
		if (!pragma) list.push('pragma', 'no-cache');
		if (!cacheControl) list.push('cache-control', 'no-cache');
	}
	return list;
}

const noBytes = new Uint8Array(0);

/**
 * A request body. One chunk that ends at once (a string, bytes, JSON: what ky sends) goes out as
 * bytes with a Content-Length, as fetch sends it, and can be sent again after a 307/308; anything
 * else is streamed (chunked). The wait for the end is one macrotask at most, so a stream that
 * pauses after its first chunk (a live upload) starts at once.
 */
async function bodyOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array | AsyncIterable<Uint8Array>> {
	const reader = stream.getReader();
	const first = await reader.read();
	if (first.done) {
		reader.releaseLock();
		return noBytes;
	}
	const next = reader.read();
	const second = await Promise.race([next, new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))]);
	if (second?.done) {
		reader.releaseLock();
		return first.value;
	}
	return streamed(reader, first.value, next);
}

async function* streamed(reader: ReadableStreamDefaultReader<Uint8Array>, first: Uint8Array, next: Promise<ReadableStreamReadResult<Uint8Array>>): AsyncGenerator<Uint8Array> {
	let ended = false;
	try {
		yield first;
		for (let result = await next; !result.done; result = await reader.read()) yield result.value;
		ended = true;
	} finally {
		// undici stopped early (the request failed or was aborted): the caller's stream is released.
		if (!ended) void reader.cancel().catch(() => {});
		else reader.releaseLock();
	}
}
