// Retries: ky schedules, surefetch decides. Union-aware shouldRetry, Retry-After, Idempotency-Key,
// body-phase failures of a reader, and never a backoff past the total deadline.
import {describe, expect, it} from 'vitest';
import {createClient, type RetryEvent} from '../../src/index.js';
import {at, stats, uid, failure} from '../support/fault.js';
import {captureListenerReports} from '../support/reports.js';

const fast = {delay: () => 20};


describe('retry', () => {
	it('retries a 503 until it succeeds', async () => {
		const id = uid();
		const api = createClient({retry: {limit: 3, ...fast}});
		expect(await api.get(at(`/flaky?id=${id}&fail=2&status=503`)).json()).toMatchObject({ok: true});
		expect((await stats(id)).hits).toBe(3);
	});

	it('the final error counts every attempt and says whether a later try might work', async () => {
		const id = uid();
		const api = createClient({retry: {limit: 2, ...fast}});
		const error = await failure(api.get(at(`/flaky?id=${id}&fail=9&status=503`)).json());
		expect(error).toMatchObject({kind: 'http', status: 503, attempts: 3, retryable: true});
		const notFound = await failure(api.get(at('/status/404')).json());
		expect(notFound).toMatchObject({kind: 'http', status: 404, attempts: 1, retryable: false});
	});

	it('waits for Retry-After (seconds)', async () => {
		const id = uid();
		const api = createClient({retry: {limit: 1}});
		const started = performance.now();
		await api.get(at(`/flaky?id=${id}&fail=1&status=429&retryAfter=1`)).json();
		expect(performance.now() - started).toBeGreaterThanOrEqual(900);
		expect((await stats(id)).hits).toBe(2);
	});

	it('does not sleep past the total deadline: it gives up at once with the error it has', async () => {
		// Retry-After 30 s against a total deadline of 10 s: sleeping would end in the total deadline.
		const id = uid();
		const api = createClient({retry: {limit: 3}, timeout: 10_000});
		const started = performance.now();
		const error = await failure(api.get(at(`/flaky?id=${id}&fail=1&status=503&retryAfter=30`)).json());
		expect(performance.now() - started).toBeLessThan(5000);
		expect(error).toMatchObject({kind: 'http', status: 503, attempts: 1});
		expect((await stats(id)).hits).toBe(1);
	});

	it('does not retry POST, unless it carries an Idempotency-Key', async () => {
		const api = createClient({retry: {limit: 2, ...fast}});
		const plain = uid();
		await failure(api.post(at(`/flaky?id=${plain}&fail=1&status=503`), {json: {a: 1}}).json());
		expect((await stats(plain)).hits).toBe(1);
		const keyed = uid();
		const ok = await api.post(at(`/flaky?id=${keyed}&fail=1&status=503`), {json: {a: 1}, headers: {'Idempotency-Key': keyed}}).json();
		expect(ok).toMatchObject({ok: true});
		expect((await stats(keyed)).hits).toBe(2);
	});

	it('the Idempotency-Key rule holds when a beforeRequest hook turns the request into a POST', async () => {
		const keyed = uid();
		const toPost = (request: Request) => new Request(request, {method: 'POST', body: '{}', headers: {'Idempotency-Key': keyed}});
		// Once on the client, once per request: surefetch looked at the method before the hook ran.
		for (const api of [
			createClient({retry: {limit: 2, ...fast}, hooks: {beforeRequest: [({request}) => toPost(request)]}}),
			createClient({retry: {limit: 2, ...fast}}),
		]) {
			const id = uid();
			const ok = await api.get(at(`/flaky?id=${id}&fail=1&status=503`), {hooks: {beforeRequest: [({request}) => toPost(request)]}}).json();
			expect(ok).toMatchObject({ok: true});
			expect((await stats(id)).hits).toBe(2);
		}
	});

	it('retries a reset before headers', async () => {
		const id = uid();
		const api = createClient({retry: {limit: 2, ...fast}});
		expect(await api.get(at(`/flaky?id=${id}&fail=1&mode=reset`)).json()).toMatchObject({ok: true});
		expect((await stats(id)).hits).toBe(2);
	});

	it('retries a failure while a reader reads the body', async () => {
		const id = uid();
		const api = createClient({retry: {limit: 2, ...fast}});
		expect(await api.get(at(`/flaky?id=${id}&fail=1&mode=reset-body`)).json()).toMatchObject({ok: true});
		expect((await stats(id)).hits).toBe(2);
	});

	it('does not retry a body the caller reads itself (the Response was already handed on)', async () => {
		const id = uid();
		const api = createClient({retry: {limit: 2, ...fast}});
		const response = await api.get(at(`/flaky?id=${id}&fail=1&mode=reset-body`));
		const error = await failure(response.text());
		expect(error).toMatchObject({kind: 'network', phase: 'body', attempts: 1});
		expect((await stats(id)).hits).toBe(1);
	});

	it('shouldRetry sees surefetch errors and the attempt number; true and false decide', async () => {
		const seen: Array<[string, number]> = [];
		const id = uid();
		const api = createClient({retry: {limit: 3, ...fast, shouldRetry: ({error, attempt}) => {
			seen.push([error.kind, attempt]);
			return error.kind === 'http' && error.status === 404 ? true : undefined;
		}}});
		await failure(api.get(at(`/status/404?id=${id}`)).json());
		expect(seen).toEqual([['http', 1], ['http', 2], ['http', 3]]);
		expect((await stats(id)).hits).toBe(4);

		const never = createClient({retry: {limit: 3, ...fast, shouldRetry: () => false}});
		const id2 = uid();
		await failure(never.get(at(`/flaky?id=${id2}&fail=1&status=503`)).json());
		expect((await stats(id2)).hits).toBe(1);
	});

	it('an error thrown by shouldRetry propagates unchanged', async () => {
		const mine = new Error('mine');
		const api = createClient({retry: {limit: 1, shouldRetry: () => {
			throw mine;
		}}});
		await expect(api.get(at('/503')).json()).rejects.toBe(mine);
	});

	it('on.retry reports each retry with its delay, and a throwing listener changes nothing', async () => {
		const events: RetryEvent[] = [];
		const id = uid();
		const api = createClient({retry: {limit: 2, ...fast}, on: {retry: (event) => {
			events.push(event);
			throw new Error('listener bug');
		}}});
		const {value, reports} = await captureListenerReports(() => api.get(at(`/flaky?id=${id}&fail=2&status=500`)).json());
		expect(value).toMatchObject({ok: true});
		expect(events.map((e) => [e.attempt, e.error.kind, e.delay])).toEqual([[1, 'http', 20], [2, 'http', 20]]);
		expect(reports).toEqual(['listener bug', 'listener bug']);
	});

	it('jitter and backoffLimit shape the delay', async () => {
		const delays: number[] = [];
		const api = createClient({retry: {limit: 2, delay: () => 10_000, backoffLimit: 30, jitter: (d) => d / 2}, on: {retry: (e) => delays.push(e.delay)}});
		await failure(api.get(at('/503')).json());
		expect(delays).toEqual([30, 30]);
	});
});
