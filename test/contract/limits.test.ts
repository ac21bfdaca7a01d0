// Limits and the circuit breaker, observed from the server side. What must happen "at once" is
// asserted as an order against something that takes much longer (a busy machine delays both), and
// windows that can only be late on a held-up event loop add the time it was held up.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {breaker, createClient, isFetchError, limit, type BreakerEvent} from '../../src/index.js';
import {at, fault, sleep, stats, uid} from '../support/fault.js';
import {watchLag, type LagMonitor} from '../support/lag.js';

let lag: LagMonitor;
beforeAll(() => {
	lag = watchLag();
});
afterAll(() => lag.stop());

describe('limits', () => {
	it('concurrency: never more in flight than the limit (as the server sees it), FIFO order', async () => {
		const group = uid('conc');
		const order: string[] = [];
		const api = createClient({use: [limit({concurrency: 3})], retry: 0, on: {request: ({request}) => {
			order.push(new URL(request.url).searchParams.get('n')!);
		}}});
		// Each holds its slot for 300 ms: the server sees the 3 of a round overlap, however late each is sent.
		await Promise.all(Array.from({length: 12}, (_, i) => api.get(at(`/trickle?every=100&chunks=3&size=4&n=${i}&group=${group}`)).text()));
		expect((await stats(undefined, group)).groupMaxInFlight).toBe(3);
		expect(order).toEqual(Array.from({length: 12}, (_, i) => String(i)));
	});

	it('perHost: one origin is capped, another origin is not held back by it', async () => {
		const api = createClient({use: [limit({perHost: 1})], retry: 0});
		const group = uid('ph');
		const settled: string[] = [];
		const started = performance.now();
		const slow = [0, 1].map((i) => api.get(at(`/delay?ms=800&group=${group}`)).json().then(() => settled.push(`slow ${i}`)));
		// A different origin (another port) that answers at once: refused. Queued behind the first
		// origin, it would wait for the first slow one (800 ms at the server) to finish.
		const other = await api.get(fault.refusedUrl).catch((e: unknown) => e);
		settled.push('other');
		expect(isFetchError(other)).toBe(true);
		await Promise.all(slow);
		expect(settled).toEqual(['other', 'slow 0', 'slow 1']);
		expect((await stats(undefined, group)).groupMaxInFlight).toBe(1);
		expect(performance.now() - started).toBeGreaterThanOrEqual(1580); // one after the other
	});

	it('rate: at most `requests` dispatches per `per` ms', async () => {
		const times: number[] = [];
		const api = createClient({use: [limit({rate: {requests: 2, per: 300}})], retry: 0, on: {request: () => {
			times.push(performance.now());
		}}});
		await Promise.all(Array.from({length: 5}, () => api.get(at('/ok')).json()));
		expect(times).toHaveLength(5);
		// Never 3 within 300 ms. The event comes some microtasks after the slot was taken (behind the
		// other requests' work): 25 ms of tolerance, plus the time the loop was held up before the
		// earlier event (a late earlier event shortens the gap seen here, not the real one).
		const late = (i: number) => lag.within(times[i]! - 300, times[i]!);
		expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(275 - late(0));
		expect(times[3]! - times[1]!).toBeGreaterThanOrEqual(275 - late(1));
		expect(times[4]! - times[2]!).toBeGreaterThanOrEqual(275 - late(2));
		// ...and the first two go out together, not spaced out (unless the loop was held up in between).
		expect(times[1]! - times[0]!).toBeLessThan(150 + lag.within(times[0]!, times[1]!));
	});

	it('a queued request that is aborted leaves the queue at once', async () => {
		const api = createClient({use: [limit({concurrency: 1})], retry: 0});
		const settled: string[] = [];
		const first = api.get(at('/delay?ms=1500')).json().then(() => settled.push('first'));
		const controller = new AbortController();
		const queued = api.get(at('/ok'), {signal: controller.signal}).json().catch((e: unknown) => e);
		await sleep(50);
		const t0 = performance.now();
		controller.abort('changed my mind');
		expect(await queued).toMatchObject({kind: 'aborted', source: 'signal', attempts: 0});
		settled.push('queued');
		const t1 = performance.now();
		expect(t1 - t0).toBeLessThan(100 + lag.within(t0, t1));
		await first;
		expect(settled).toEqual(['queued', 'first']); // not when the slot came free
	});

	it('derived clients share their parent\'s limits', async () => {
		const parent = createClient({use: [limit({concurrency: 1})], retry: 0, timeout: {queue: 150}});
		const child = parent.extend({headers: {'x-child': '1'}});
		const busy = parent.get(at('/delay?ms=2000')).json();
		const error = await child.get(at('/ok')).catch((e: unknown) => e);
		expect(error).toMatchObject({kind: 'timeout', phase: 'queue'});
		await busy;
	});
});

describe('breaker', () => {
	it('opens after consecutive failures, refuses without traffic, probes after the cooldown, closes on success', async () => {
		const events: BreakerEvent[] = [];
		const id = uid('breaker');
		// A cooldown long enough that the calls meant to land inside it do, however slow the machine.
		const cooldown = 1500;
		const api = createClient({retry: 0, use: [breaker({failures: 3, cooldown, probes: 1})], on: {breaker: (e) => events.push(e)}});
		const url = at(`/flaky?id=${id}&fail=4&status=503`);
		for (let i = 0; i < 3; i++) expect(await api.get(url).catch((e: unknown) => e)).toMatchObject({kind: 'http', status: 503});
		const refused = await api.get(url).catch((e: unknown) => e);
		expect(refused).toMatchObject({kind: 'circuit-open', attempts: 0, retryable: true});
		expect((refused as {retryAfter: number}).retryAfter).toBeGreaterThan(0);
		expect((refused as {retryAfter: number}).retryAfter).toBeLessThanOrEqual(cooldown);
		expect((await stats(id)).hits).toBe(3); // no traffic while open
		await sleep(cooldown + 20);
		// The probe fails (4th failure): open again.
		expect(await api.get(url).catch((e: unknown) => e)).toMatchObject({kind: 'http', status: 503});
		expect(await api.get(url).catch((e: unknown) => e)).toMatchObject({kind: 'circuit-open'});
		await sleep(cooldown + 20);
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
