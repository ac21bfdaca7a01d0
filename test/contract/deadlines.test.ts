// Each deadline fires in its own phase, roughly when it should, and a deadline is a TimeoutError
// even though the runtime reports an abort. Upper windows are generous and add the time this
// process's event loop was held up meanwhile (on a busy machine every timer is late, surefetch's
// too): they still fail for a deadline that fires late while the loop was free, or not at all.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createClient, isFetchError, limit, type FetchFailure} from '../../src/index.js';
import {at, sleep, stats, uid} from '../support/fault.js';
import {watchLag, type LagMonitor} from '../support/lag.js';

let lag: LagMonitor;
beforeAll(() => {
	lag = watchLag();
});
afterAll(() => lag.stop());

/**
 * The failure of `call()`, how long it took from before the call (a deadline's timer starts inside
 * it: timing from after it returns makes a deadline look early), and how long the loop was held up.
 */
async function timed(call: () => Promise<unknown>): Promise<{error: FetchFailure; ms: number; held: number}> {
	const started = performance.now();
	const error = await call().then(() => {
		throw new Error('expected a failure');
	}, (e: unknown) => e);
	const ended = performance.now();
	expect(isFetchError(error), String(error)).toBe(true);
	return {error: error as FetchFailure, ms: ended - started, held: lag.within(started, ended)};
}

const slack = 1500; // on top of the deadline and of the time the loop was held up

describe('deadlines', () => {
	it('headers: a server that never answers', async () => {
		const api = createClient({retry: 0, timeout: {headers: 300}});
		const {error, ms, held} = await timed(() => api.get(at('/stall-before-headers')).json());
		expect(error).toMatchObject({kind: 'timeout', phase: 'headers', timeout: 300, attempts: 1, retryable: true});
		expect(ms).toBeGreaterThanOrEqual(280);
		expect(ms).toBeLessThan(300 + slack + held);
	});

	it('total: wins over a longer headers deadline, and `timeout: n` is its shorthand', async () => {
		const api = createClient({retry: 0, timeout: 300});
		const {error, ms, held} = await timed(() => api.get(at('/stall-before-headers')));
		expect(error).toMatchObject({kind: 'timeout', phase: 'total', timeout: 300});
		expect(ms).toBeGreaterThanOrEqual(280);
		expect(ms).toBeLessThan(300 + slack + held);
	});

	it('idle: a body that stalls, read by a reader', async () => {
		const api = createClient({retry: 0, timeout: {idle: 300}});
		const {error, ms, held} = await timed(() => api.get(at('/stall-mid-body?framing=cl')).text());
		expect(error).toMatchObject({kind: 'timeout', phase: 'idle', timeout: 300});
		expect(ms).toBeLessThan(300 + slack + held);
	});

	it('idle: a body that stalls, read by the caller from the Response (text() and the stream)', async () => {
		const api = createClient({retry: 0, timeout: {idle: 300}});
		const response = await api.get(at('/stall-mid-body?framing=chunked'));
		const {error} = await timed(() => response.text());
		expect(error).toMatchObject({kind: 'timeout', phase: 'idle', timeout: 300});

		const again = await api.get(at('/stall-mid-body?framing=cl'));
		const reader = again.body!.getReader();
		const {error: streamError} = await timed(() => (async () => {
			for (;;) if ((await reader.read()).done) return;
		})());
		expect(streamError).toMatchObject({kind: 'timeout', phase: 'idle'});
	});

	it('idle: a steady trickle within the deadline is fine, however long it lasts', async () => {
		// Gaps of 100 ms (15 times under the deadline) for 2 s (longer than the deadline).
		const api = createClient({retry: 0, timeout: {idle: 1500}});
		const text = await api.get(at('/trickle?every=100&chunks=20&size=4')).text();
		expect(text.length).toBe(80);
	});

	it('attempt: a trickle that never stalls but takes too long', async () => {
		const api = createClient({retry: 0, timeout: {attempt: 400, idle: 1000}});
		const {error, ms, held} = await timed(() => api.get(at('/trickle?every=100&chunks=20&size=4')).text());
		expect(error).toMatchObject({kind: 'timeout', phase: 'attempt', timeout: 400});
		expect(ms).toBeGreaterThanOrEqual(380);
		expect(ms).toBeLessThan(400 + slack + held);
	});

	it('total: covers the body the caller reads from the Response', async () => {
		// idle = total: the idle deadline starts at the headers, so the total one always ends first.
		const api = createClient({retry: 0, timeout: {total: 2000, idle: 2000}});
		const response = await api.get(at('/trickle?every=100&chunks=60&size=4'));
		const {error} = await timed(() => response.text());
		expect(error).toMatchObject({kind: 'timeout', phase: 'total', timeout: 2000});
	});

	it('queue: waiting for a concurrency slot', async () => {
		const api = createClient({retry: 0, use: [limit({concurrency: 1})], timeout: {queue: 200}});
		const first = api.get(at('/delay?ms=2000'));
		const {error, ms, held} = await timed(() => api.get(at('/ok')));
		expect(error).toMatchObject({kind: 'timeout', phase: 'queue', timeout: 200, attempts: 0});
		expect(ms).toBeGreaterThanOrEqual(180);
		expect(ms).toBeLessThan(200 + slack + held);
		await expect(first).resolves.toBeInstanceOf(Response);
	});

	it('false turns a deadline off', async () => {
		const api = createClient({retry: 0, timeout: {total: 400, headers: false}});
		const {error} = await timed(() => api.get(at('/stall-before-headers')));
		expect(error).toMatchObject({kind: 'timeout', phase: 'total'});
	});

	it('a headers timeout is retried, and each attempt gets its own deadline', async () => {
		const id = uid('stall');
		const api = createClient({retry: {limit: 2, delay: () => 10}, timeout: {headers: 200}});
		const {error} = await timed(() => api.get(at(`/stall-before-headers?id=${id}`)));
		expect(error).toMatchObject({kind: 'timeout', phase: 'headers', attempts: 3});
		expect((await stats(id)).hits).toBe(3);
	});

	it('the caller\'s signal is an AbortedError with its reason, at any phase', async () => {
		const api = createClient({retry: 0});
		const controller = new AbortController();
		setTimeout(() => controller.abort(new Error('user left')), 100);
		const {error} = await timed(() => api.get(at('/stall-before-headers'), {signal: controller.signal}));
		expect(error).toMatchObject({kind: 'aborted', source: 'signal', retryable: false});
		expect((error as {reason: Error}).reason.message).toBe('user left');

		const body = new AbortController();
		const response = await api.get(at('/stall-mid-body?framing=cl'), {signal: body.signal});
		setTimeout(() => body.abort('stop'), 50);
		const {error: late} = await timed(() => response.arrayBuffer());
		expect(late).toMatchObject({kind: 'aborted', source: 'signal', reason: 'stop'});
	});

	it('an already aborted signal rejects without a request', async () => {
		const id = uid('pre');
		const api = createClient();
		const {error} = await timed(() => api.get(at(`/ok?id=${id}`), {signal: AbortSignal.abort('no')}));
		expect(error).toMatchObject({kind: 'aborted', source: 'signal', reason: 'no', attempts: 0});
		await sleep(20);
		expect((await stats(id)).hits).toBe(0);
	});
});
