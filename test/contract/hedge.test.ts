// Hedged requests: after `delay` ms without headers another attempt starts; the first response wins.
import {describe, expect, it} from 'vitest';
import {createClient, hedge, limit, type RequestEvent} from '../../src/index.js';
import {at, sleep, stats, uid} from '../support/fault.js';

describe('hedge', () => {
	it('a slow first attempt is overtaken by a hedge; both count as attempts', async () => {
		const id = uid('hedge');
		const started: RequestEvent[] = [];
		const api = createClient({use: [hedge({delay: 100})], retry: 0, on: {request: (e) => started.push(e)}});
		// The first attempt answers after 10 s; the hedge at once. Without a hedge this takes 10 s.
		const t0 = performance.now();
		const body = await api.get(at(`/flaky?id=${id}&fail=1&mode=slow&ms=10000`)).json<{hits: number}>();
		const ms = performance.now() - t0;
		expect(body.hits).toBe(2); // the hedge's answer
		expect(ms).toBeLessThan(5000);
		expect(started.map((e) => e.attempt)).toEqual([1, 2]);
		expect((await stats(id)).hits).toBe(2);
	});

	it('no hedge when headers come before the delay, and none for POST', async () => {
		const fast = uid('fast');
		// A delay that /ok answers well within on a busy machine; the POST's answer comes later than it.
		const api = createClient({use: [hedge({delay: 1500, max: 2})], retry: 0});
		await api.get(at(`/ok?id=${fast}`)).json();
		const post = uid('post');
		await api.post(at(`/flaky?id=${post}&fail=1&mode=slow&ms=2000`)).json();
		await sleep(50);
		expect((await stats(fast)).hits).toBe(1);
		expect((await stats(post)).hits).toBe(1);
	});

	it('up to `max` extra attempts, never past the limits', async () => {
		const id = uid('max');
		// Attempts start 300 ms apart and each answers 1.5 s after it started: the first answers first.
		const api = createClient({use: [hedge({delay: 300, max: 2})], retry: 0, timeout: {headers: 5000}});
		const result = await api.get(at(`/flaky?id=${id}&fail=3&mode=slow&ms=1500`)).json<{hits: number}>().catch((e: unknown) => e);
		expect(result).toMatchObject({hits: 1}); // all three are slow; the first one answers first
		expect((await stats(id)).hits).toBe(3);

		const limited = createClient({use: [hedge({delay: 50, max: 3}), limit({concurrency: 1})], retry: 0});
		const one = uid('limited');
		await limited.get(at(`/flaky?id=${one}&fail=1&mode=slow&ms=400`)).json();
		expect((await stats(one)).hits).toBe(1);
	});
});
