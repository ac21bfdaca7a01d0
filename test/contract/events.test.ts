// Listeners: what each event carries, timings that add up, and listeners never changing outcomes.
import {describe, expect, it} from 'vitest';
import {createClient, limit, type ErrorEvent, type RequestEvent, type ResponseEvent} from '../../src/index.js';
import {at} from '../support/fault.js';
import {captureListenerReports} from '../support/reports.js';

describe('listeners', () => {
	it('request, response and error events with timings', async () => {
		const requests: RequestEvent[] = [];
		const responses: ResponseEvent[] = [];
		const errors: ErrorEvent[] = [];
		const api = createClient({retry: 0, use: [limit({concurrency: 1})], timeout: {idle: 150}, on: {
			request: (e) => requests.push(e),
			response: (e) => responses.push(e),
			error: (e) => errors.push(e),
		}});
		// The first holds the only slot for 600 ms: the second, queued at most a few hundred ms later
		// on a busy machine, still waits at least 300 ms of it.
		const first = api.get(at('/delay?ms=600')).json();
		const second = api.get(at('/stall-mid-body?framing=cl')).json().catch(() => undefined);
		await Promise.all([first, second]);
		expect(requests.map((e) => [e.attempt, new URL(e.request.url).pathname])).toEqual([[1, '/delay'], [1, '/stall-mid-body']]);
		expect(responses).toHaveLength(2);
		expect(responses[0]!.status).toBe(200);
		expect(responses[0]!.timings.headers).toBeGreaterThanOrEqual(590);
		expect(responses[1]!.timings.queue).toBeGreaterThanOrEqual(300); // waited for the first one's slot
		expect(errors).toHaveLength(1);
		const {timings, error} = errors[0]!;
		expect(error).toMatchObject({kind: 'timeout', phase: 'idle'});
		expect(timings.total).toBeGreaterThanOrEqual(timings.queue + timings.headers);
		expect(timings.total).toBeGreaterThanOrEqual(440);
		expect(timings.headers).toBeGreaterThan(0);
		expect(timings.body).toBeGreaterThanOrEqual(140); // the idle deadline ran on the body
	});

	it('timings.queue is time spent waiting to be admitted: 0 without a policy that made the attempt wait', async () => {
		const responses: ResponseEvent[] = [];
		const on = {response: (e: ResponseEvent) => responses.push(e)};
		// An admit policy that blocks for 40 ms without making the attempt wait (as a long GC pause would).
		const busy = {name: 'busy', admit: () => {
			const end = performance.now() + 40;
			while (performance.now() < end);
			return undefined;
		}};
		// One that makes it wait for 60 ms.
		const slow = {name: 'slow', admit: () => new Promise<undefined>((resolve) => setTimeout(resolve, 60))};
		await createClient({retry: 0, on}).get(at('/ok')).text();
		await createClient({retry: 0, on, use: [busy]}).get(at('/ok')).text();
		await createClient({retry: 0, on, use: [slow]}).get(at('/ok')).text();
		expect(responses.map((e) => e.timings.queue).slice(0, 2)).toEqual([0, 0]);
		expect(responses[2]!.timings.queue).toBeGreaterThanOrEqual(55);
		// A wait that ends in the queue deadline was queue time too: the error event says how long.
		const errors: ErrorEvent[] = [];
		const full = limit({concurrency: 1});
		const api = createClient({retry: 0, use: [full], timeout: {queue: 100}, on: {error: (e) => errors.push(e)}});
		const holder = api.get(at('/delay?ms=600')).text();
		await api.get(at('/ok')).text().catch(() => {});
		await holder;
		expect(errors).toHaveLength(1);
		expect(errors[0]!.error).toMatchObject({kind: 'timeout', phase: 'queue'});
		expect(errors[0]!.timings.queue).toBeGreaterThanOrEqual(95);
	});

	it('on.error fires once for failures found by a reader or by the caller\'s own read', async () => {
		const errors: ErrorEvent[] = [];
		// idle far above the 20 ms after which the server resets the mid-body fault (no stall here).
		const api = createClient({retry: 0, timeout: {idle: 2000}, on: {error: (e) => errors.push(e)}});
		await api.get(at('/bad-json')).json().catch(() => {});
		await api.get(at('/charset/wrong-label?as=text')).text().catch(() => {});
		const response = await api.get(at('/reset-mid-body?framing=cl'));
		await response.text().catch(() => {});
		const late = api.get(at('/empty?status=200'));
		await late;
		await late.json().catch(() => {});
		expect(errors.map((e) => `${e.error.kind}:${'reason' in e.error ? e.error.reason : e.error.kind === 'network' ? e.error.phase : ''}`)).toEqual([
			'decode:json', 'decode:charset', 'network:body', 'decode:json',
		]);
	});

	it('a listener that throws or rejects changes nothing, and each throw is reported (a warning in Node, console.error in a browser)', async () => {
		const api = createClient({retry: 0, on: {
			request: () => {
				throw new Error('request listener bug');
			},
			response: () => Promise.reject(new Error('async response listener bug')),
			error: () => {
				throw new Error('error listener bug');
			},
		}});
		const {reports} = await captureListenerReports(async () => {
			expect(await api.get(at('/ok')).json()).toEqual({ok: true});
			expect(await api.get(at('/status/418')).catch((e: unknown) => e)).toMatchObject({kind: 'http', status: 418});
		});
		expect(reports.sort()).toEqual([
			'async response listener bug', 'async response listener bug', 'error listener bug', 'request listener bug', 'request listener bug',
		]);
	});
});
