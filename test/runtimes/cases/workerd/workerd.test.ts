// workerd-only cases: a Worker lives across many incoming requests, and each incoming request has
// its own I/O. A client made at module scope (as workers do) must keep working from one request to
// the next, its deadlines included, even when a request was left pending as its incoming request
// ended; and workerd's limit on simultaneous open connections must not turn into a hang.
// `__request` is served by the worker (test/runtimes/run.mjs routes /case/<file> to it), so the
// tests reach it with real incoming requests to the same isolate.
import {describe, expect, inject, it} from 'vitest';
import {createClient, isFetchError} from '../../../../src/index.js';
import {at, stats, uid} from '../../../support/fault.js';

declare module 'vitest' {
	export interface ProvidedContext {
		/** This worker's own URL (set by the worker as it runs a file). */
		workerdSelf: string;
	}
}

// At module scope, as a Worker would have it: made once, used by every incoming request.
const shared = createClient({retry: 0, timeout: {headers: 300, total: 10_000}});
const describeError = (error: unknown) => (isFetchError(error) ? {kind: error.kind, phase: (error as {phase?: string}).phase, code: (error as {code?: string}).code} : {raw: String(error)});

/** Handles /case/…?do=… in its own incoming request. */
export async function __request(request: Request): Promise<Response> {
	const url = new URL(request.url);
	const what = url.searchParams.get('do');
	const started = Date.now();
	if (what === 'stall') {
		const outcome = await shared.get(at('/stall-before-headers')).json().then(() => ({ok: true}), describeError);
		return Response.json({...outcome, ms: Date.now() - started});
	}
	if (what === 'leave') {
		// Answer while a request of ours is still pending: workerd ends this request's I/O with it.
		void shared.get(at(`/stall-before-headers?group=${url.searchParams.get('group')}`), {timeout: {headers: 60_000}}).json().catch(() => {});
		await new Promise((resolve) => setTimeout(resolve, 50));
		return Response.json({left: true});
	}
	if (what === 'ok') return Response.json(await shared.get(at('/ok')).json());
	return new Response('?do=stall|leave|ok', {status: 404});
}

const self = (what: string, extra = '') => fetch(`${inject('workerdSelf')}/case/test/runtimes/cases/workerd/workerd.test.ts?do=${what}${extra}`).then((r) => r.json() as Promise<Record<string, unknown>>);

describe('in workerd', () => {
	it('a client made at module scope serves one incoming request after another, deadlines included', async () => {
		expect(await self('ok')).toEqual({ok: true});
		for (let i = 0; i < 3; i++) expect(await self('stall')).toMatchObject({kind: 'timeout', phase: 'headers'});
	});

	it('a request left pending when its incoming request ended does not stop later deadlines', async () => {
		const group = uid('left');
		expect(await self('leave', `&group=${group}`)).toEqual({left: true});
		const next = await self('stall');
		expect(next).toMatchObject({kind: 'timeout', phase: 'headers'});
		expect(next.ms as number).toBeLessThan(5000);
		// workerd cancelled the abandoned request's I/O: the server sees it go.
		for (let i = 0; i < 40 && (await stats(undefined, group)).groupInFlight > 0; i++) await new Promise((r) => setTimeout(r, 50));
		expect((await stats(undefined, group)).groupInFlight).toBe(0);
	});

	it('more stalled requests than workerd opens connections at once (6): every one ends by its own deadline', async () => {
		const api = createClient({retry: 0, timeout: {headers: 400, total: 5000}});
		const started = Date.now();
		const outcomes = await Promise.all(Array.from({length: 10}, (_, i) => api.get(at(`/stall-before-headers?n=${i}`)).json().then(() => ({ok: true}), describeError)));
		for (const outcome of outcomes) expect(outcome).toMatchObject({kind: 'timeout', phase: 'headers'});
		expect(Date.now() - started).toBeLessThan(5000);
		// And the connections are free again: the next requests go through.
		const after = await Promise.all(Array.from({length: 10}, (_, i) => api.get(at(`/json?size=16&n=${i}`)).json()));
		expect(after).toHaveLength(10);
	});
});
