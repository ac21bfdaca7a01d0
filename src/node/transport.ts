// The Node transport: npm undici's `fetch` over an `Agent` of our own. undici is loaded when a
// transport is created, so importing `surefetch/node` never fails; creating one without undici
// installed throws a message that says what to install.

import {createRequire} from 'node:module';
import {DeadlineReason} from '../deadlines.js';
import {connectDeadline, connectPhaseSupport, ourTransport} from '../options.js';

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

interface Undici {
	Agent: new (options: Record<string, unknown>) => {close(): Promise<void>};
	fetch: (input: string, init: Record<string, unknown>) => Promise<Response>;
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
	const agents = new Map<number | false, {close(): Promise<void>}>();
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

	const transport = (async (input: string | URL | Request, init: RequestInit & {[connectDeadline]?: number | false} = {}) => {
		const connect = init[connectDeadline] ?? false;
		// The global Request is another class than undici's own: pass its parts, not the object.
		const request = input instanceof Request ? input : undefined;
		const url = request ? request.url : String(input);
		try {
			return await undici.fetch(url, {
				method: init.method ?? request?.method,
				headers: init.headers ?? request?.headers,
				body: init.body ?? request?.body ?? undefined,
				redirect: init.redirect ?? request?.redirect,
				signal: init.signal ?? request?.signal,
				duplex: 'half',
				dispatcher: agentFor(connect),
			});
		} catch (error) {
			// The connect deadline is surefetch's own limit, undici only runs the timer: say which.
			if (connect !== false && hasCode(error, 'UND_ERR_CONNECT_TIMEOUT')) throw new DeadlineReason('connect', connect);
			throw error;
		}
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

function hasCode(error: unknown, code: string): boolean {
	for (let current = error as {code?: unknown; cause?: unknown} | undefined, depth = 0; current && depth < 5; depth++) {
		if (current.code === code) return true;
		current = current.cause as typeof current;
	}
	return false;
}
