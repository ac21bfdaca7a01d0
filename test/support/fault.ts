// What a test needs from the fault server: its addresses and its counters; and how to expect a failure.
import {expect, inject} from 'vitest';
import {isFetchError, type FetchFailure} from '../../src/index.js';

export const fault = inject('fault');

export const at = (path: string): string => `${fault.url}${path.startsWith('/') ? '' : '/'}${path}`;

let seq = 0;
/** A fresh id for per-test counters on the server (`?id=`). */
export const uid = (name = 't'): string => `${name}-${Date.now().toString(36)}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export interface ServerStats {
	hits: number;
	/** Requests carrying ?group=G in flight now, and at most, as the server saw them. */
	groupInFlight: number;
	groupMaxInFlight: number;
	requests: number;
	inFlight: number;
	maxInFlight: number;
}

/** The server's counters; `id` selects the per-id hit count, `group` the per-group concurrency. */
export async function stats(id?: string, group?: string): Promise<ServerStats> {
	const query = new URLSearchParams();
	if (id) query.set('id', id);
	if (group) query.set('group', group);
	const response = await fetch(at(`/__stats?${query}`));
	return response.json() as Promise<ServerStats>;
}

/** Where the tests run: Node and Chromium under vitest; Bun, Deno, workerd and Firefox under test/runtimes/run.mjs. */
export type Runtime = 'node' | 'chromium' | 'firefox' | 'bun' | 'deno' | 'workerd';

function detect(): Runtime {
	const g = globalThis as {Bun?: unknown; Deno?: unknown; window?: unknown; navigator?: {userAgent?: string}};
	if (g.Bun !== undefined) return 'bun';
	if (g.Deno !== undefined) return 'deno';
	const agent = g.navigator?.userAgent ?? '';
	if (agent === 'Cloudflare-Workers') return 'workerd';
	if (g.window !== undefined) return /\bFirefox\//.test(agent) ? 'firefox' : 'chromium';
	return 'node';
}

export const runtime: Runtime = detect();

/** Node itself (Bun and Deno have `process.versions.node` too, but neither is Node). */
export const isNode = runtime === 'node';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Awaits a promise that must reject with a surefetch error, and returns that error. */
export async function failure(promise: Promise<unknown>): Promise<FetchFailure> {
	const error = await promise.then(() => {
		throw new Error('expected a failure');
	}, (e: unknown) => e);
	expect(isFetchError(error), `not a surefetch error: ${String(error)}`).toBe(true);
	return error as FetchFailure;
}
