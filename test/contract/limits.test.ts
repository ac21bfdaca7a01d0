// Limits and the circuit breaker, observed from the server side.
import {describe, expect, it} from 'vitest';
import {breaker, createClient, isFetchError, limit, type BreakerEvent} from '../../src/index.js';
import {at, fault, sleep, stats, uid} from '../support/fault.js';

describe('limits', () => {
	it('concurrency: never more in flight than the limit (as the server sees it), FIFO order', async () => {
		const group = uid('conc');
		const order: string[] = [];
		const api = createClient({use: [limit({concurrency: 3})], retry: 0, on: {request: ({request}) => {
			order.push(new URL(request.url).searchParams.get('n')!);
		}}});
		await Promise.all(Array.from({length: 12}, (_, i) => api.get(at(`/trickle?every=20&chunks=3&size=4&n=${i}&group=${group}`)).text()));
		expect((await stats(undefined, group)).groupMaxInFlight).toBe(3);
		expect(order).toEqual(Array.from({length: 12}, (_, i) => String(i)));
	});

	it('perHost: one origin is capped, another origin is not held back by it', async () => {
		const api = createClient({use: [limit({perHost: 1})], retry: 0});
		const slowId = uid('ph');
		const started = performance.now();
		const slow = [api.get(at(`/delay?ms=300&id=${slowId}`)).json(), api.get(at(`/delay?ms=300&id=${slowId}`)).json()];
		// A different origin (another port) that answers at once: refused.
		const other = await api.get(fault.refusedUrl).catch((e: unknown) => e);
		expect(isFetchError(other)).toBe(true);
		expect(performance.now() - started).toBeLessThan(250);
		await Promise.all(slow);
		expect(performance.now() - started).toBeGreaterThanOrEqual(580);
	});

	it('rate: at most `requests` dispatches per `per` ms', async () => {
		const api = createClient({use: [limit({rate: {requests: 2, per: 300}})], retry: 0});
		const times: number[] = [];
		const t0 = performance.now();
		await Promise.all(Array.from({length: 5}, () => api.get(at('/ok'), {hooks: {afterResponse: [() => {
			times.push(performance.now() - t0);
		}]}}).json()));
		times.sort((a, b) => a - b);
		expect(times[1]!).toBeLessThan(280);
		expect(times[2]!).toBeGreaterThanOrEqual(280);
		expect(times[4]!).toBeGreaterThanOrEqual(580);
	});

	it('a queued request that is aborted leaves the queue at once', async () => {
		const api = createClient({use: [limit({concurrency: 1})], retry: 0});
		const first = api.get(at('/delay?ms=500')).json();
		const controller = new AbortController();
		const queued = api.get(at('/ok'), {signal: controller.signal}).json().catch((e: unknown) => e);
		await sleep(50);
		const t0 = performance.now();
		controller.abort('changed my mind');
		expect(await queued).toMatchObject({kind: 'aborted', source: 'signal', attempts: 0});
		expect(performance.now() - t0).toBeLessThan(100);
		await first;
	});

	it('derived clients share their parent\'s limits', async () => {
		const parent = createClient({use: [limit({concurrency: 1})], retry: 0, timeout: {queue: 150}});
		const child = parent.extend({headers: {'x-child': '1'}});
		const busy = parent.get(at('/delay?ms=500')).json();
		const error = await child.get(at('/ok')).catch((e: unknown) => e);
		expect(error).toMatchObject({kind: 'timeout', phase: 'queue'});
		await busy;
	});
});

describe('breaker', () => {
	it('opens after consecutive failures, refuses without traffic, probes after the cooldown, closes on success', async () => {
		const events: BreakerEvent[] = [];
		const id = uid('breaker');
		const api = createClient({retry: 0, use: [breaker({failures: 3, cooldown: 300, probes: 1})], on: {breaker: (e) => events.push(e)}});
		const url = at(`/flaky?id=${id}&fail=4&status=503`);
		for (let i = 0; i < 3; i++) expect(await api.get(url).catch((e: unknown) => e)).toMatchObject({kind: 'http', status: 503});
		const refused = await api.get(url).catch((e: unknown) => e);
		expect(refused).toMatchObject({kind: 'circuit-open', attempts: 0, retryable: true});
		expect((refused as {retryAfter: number}).retryAfter).toBeGreaterThan(0);
		expect((refused as {retryAfter: number}).retryAfter).toBeLessThanOrEqual(300);
		expect((await stats(id)).hits).toBe(3); // no traffic while open
		await sleep(320);
		// The probe fails (4th failure): open again.
		expect(await api.get(url).catch((e: unknown) => e)).toMatchObject({kind: 'http', status: 503});
		expect(await api.get(url).catch((e: unknown) => e)).toMatchObject({kind: 'circuit-open'});
		await sleep(320);
		// The probe succeeds: closed.
		expect(await api.get(url).json()).toMatchObject({ok: true});
		expect(await api.get(url).json()).toMatchObject({ok: true});
		expect(events.map((e) => `${e.previous}->${e.state}`)).toEqual([
			'closed->open', 'open->half-open', 'half-open->open', 'open->half-open', 'half-open->closed',
		]);
		expect(events[0]!.origin).toBe(new URL(fault.url).origin);
	});

	it('4xx answers and decode failures do not count; network errors and attempt timeouts do', async () => {
		const api = createClient({retry: 0, use: [breaker({failures: 2, cooldown: 10_000})], timeout: {headers: 100}});
		for (let i = 0; i < 3; i++) await api.get(at('/status/404')).catch(() => {});
		await api.get(at('/bad-json')).json().catch(() => {});
		expect(await api.get(at('/ok')).json()).toEqual({ok: true});
		await api.get(at('/stall-before-headers')).catch(() => {});
		await api.get(at('/reset-before-headers')).catch(() => {});
		expect(await api.get(at('/ok')).catch((e: unknown) => e)).toMatchObject({kind: 'circuit-open'});
	});
});
