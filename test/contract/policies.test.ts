// Policies: factories that check their options, instances that hold their state (shared by the
// clients they are given to), fixed stages whatever the order in `use`, derived clients running
// their parent's policies and then their own, and the Policy interface a user writes against.
import {describe, expect, it} from 'vitest';
import {breaker, createClient, dedupe, hedge, limit, type Policy, type PolicyEvent} from '../../src/index.js';
import {at, sleep, stats, uid} from '../support/fault.js';

describe('factories', () => {
	it('check their options as createClient does', () => {
		expect(() => limit({perHost: 0})).toThrow(new RangeError('limit.perHost (0) must be a positive integer'));
		expect(() => limit({concurrency: 1.5})).toThrow(RangeError);
		expect(() => limit({rate: {requests: 5}} as never)).toThrow(/limit\.rate needs both requests and per/);
		expect(() => limit({})).toThrow(TypeError);
		expect(() => limit({burst: 1} as never)).toThrow(/limit\.burst is not an option of limit/);
		expect(() => breaker({cooldown: -1})).toThrow(RangeError);
		expect(() => breaker({failures: '3' as never})).toThrow(TypeError);
		expect(() => hedge({delay: 'soon' as never})).toThrow(TypeError);
		expect(() => hedge({} as never)).toThrow(/hedge\.delay is required/);
		expect(() => hedge({delay: 100, max: 0})).toThrow(/hedge\.max \(0\) must be a positive integer/);
	});
});

describe('instances hold their state', () => {
	it('one limit given to two clients is one limit, as the server sees it', async () => {
		const shared = limit({concurrency: 2});
		const a = createClient({retry: 0, use: [shared]});
		const b = createClient({retry: 0, use: [shared], headers: {'x-client': 'b'}});
		const group = uid('shared');
		// Distinct URLs: Firefox runs identical GETs one after the other (its HTTP cache's lock).
		await Promise.all([a, b, a, b, a, b].map((client, i) => client.get(at(`/trickle?every=30&chunks=3&size=4&group=${group}&n=${i}`)).text()));
		expect((await stats(undefined, group)).groupMaxInFlight).toBe(2);
	});

	it('one breaker given to two clients opens for both', async () => {
		const shared = breaker({failures: 2, cooldown: 10_000});
		const a = createClient({retry: 0, use: [shared]});
		const b = createClient({retry: 0, use: [shared]});
		await a.get(at('/status/503')).catch(() => {});
		await b.get(at('/status/503')).catch(() => {});
		expect(await a.get(at('/ok')).catch((e: unknown) => e)).toMatchObject({kind: 'circuit-open'});
		expect(await b.get(at('/ok')).catch((e: unknown) => e)).toMatchObject({kind: 'circuit-open'});
	});

	it('a probe holds its slot until its body is over, and gives it back when the body ends (read, cancelled or cut by a deadline)', async () => {
		// A cooldown far longer than a busy machine takes between two calls.
		const api = createClient({retry: 0, use: [breaker({failures: 1, cooldown: 1000, probes: 1})]});
		await api.get(at('/status/503')).catch(() => {});
		await sleep(1100);
		// The probe: its headers come, its body stalls and nobody reads it; its total deadline ends it.
		const probe = await api.get(at('/stall-mid-body?framing=cl'), {timeout: {total: 1500}});
		expect(probe.status).toBe(200);
		// Meanwhile the circuit stays half-open with its one probe in flight: refused, with nothing to wait for.
		expect(await api.get(at('/ok')).catch((e: unknown) => e)).toMatchObject({kind: 'circuit-open', retryAfter: 0});
		// The deadline ends the probe's body (a total timeout says nothing about the origin): the slot is free again.
		await expect(probe.text()).rejects.toMatchObject({kind: 'timeout', phase: 'total'});
		await expect(api.get(at('/ok')).json()).resolves.toBeDefined();
		// A probe whose body the caller cancels gives its slot back at once.
		await api.get(at('/status/503')).catch(() => {});
		expect(await api.get(at('/ok')).catch((e: unknown) => e)).toMatchObject({kind: 'circuit-open'});
		await sleep(1100);
		const cancelled = await api.get(at('/stall-mid-body?framing=cl'), {timeout: {total: 60_000}});
		await cancelled.body!.cancel();
		await expect(api.get(at('/ok')).json()).resolves.toBeDefined();
	});
});

describe('stages', () => {
	it('whatever the order in `use`, a hedge never goes past the limit', async () => {
		for (const use of [[hedge({delay: 40, max: 3}), limit({concurrency: 1})], [limit({concurrency: 1}), hedge({delay: 40, max: 3})]]) {
			const id = uid('order');
			const api = createClient({retry: 0, use});
			await api.get(at(`/flaky?id=${id}&fail=1&mode=slow&ms=300`)).json();
			expect((await stats(id)).hits).toBe(1);
		}
	});

	it('a derived client runs its parent\'s policies, then its own; the parent is unchanged', async () => {
		const parent = createClient({retry: 0, use: [limit({concurrency: 1})], timeout: {queue: 2000}});
		const child = parent.extend({use: [dedupe()]});
		const group = uid('derived');
		const id = uid('derived-id');
		const url = at(`/delay?ms=150&group=${group}&id=${id}`);
		await Promise.all([child.get(url).json(), child.get(url).json(), parent.get(url).json()]);
		expect((await stats(undefined, group)).groupMaxInFlight).toBe(1); // the parent's limit holds for the child
		expect((await stats(id)).hits).toBe(2); // the child's two calls were one
	});
});

describe('a policy of your own', () => {
	it('a call policy hears the retries and the end of the call', async () => {
		const events: PolicyEvent[] = [];
		const spy: Policy = {name: 'spy', call(call, next) {
			call.listen((event) => events.push(event));
			return next();
		}};
		const id = uid('spy');
		const api = createClient({retry: {limit: 2, delay: () => 10}, use: [spy]});
		await api.get(at(`/flaky?id=${id}&fail=1&status=503`)).json();
		expect(events.map((e) => e.type)).toEqual(['retry', 'end']);
		expect(events[1]).toMatchObject({type: 'end', attempts: 2, status: 200});
	});

	it('an admit policy can make attempts wait (the queue deadline applies) and learns each outcome', async () => {
		const outcomes: Array<number | string | undefined> = [];
		const gate: Policy = {name: 'gate', admit: () => sleep(30).then(() => (outcome) => outcomes.push(outcome.error?.kind ?? outcome.status))};
		const api = createClient({retry: 0, use: [gate]});
		await api.get(at('/ok')).json();
		await api.get(at('/status/404')).catch(() => {});
		expect(outcomes).toEqual([200, 404]);
		const slow: Policy = {name: 'slow', admit: () => sleep(1000)};
		const queued = await createClient({retry: 0, use: [slow], timeout: {queue: 100}}).get(at('/ok')).catch((e: unknown) => e);
		expect(queued).toMatchObject({kind: 'timeout', phase: 'queue', attempts: 0});
	});

	it('an error of its own propagates unchanged', async () => {
		const mine = new Error('my policy');
		const api = createClient({use: [{name: 'broken', send: () => Promise.reject(mine)}]});
		await expect(api.get(at('/ok')).json()).rejects.toBe(mine);
		const admitting = createClient({use: [{name: 'broken', admit: () => {
			throw mine;
		}}]});
		await expect(admitting.get(at('/ok'))).rejects.toBe(mine);
	});
});
