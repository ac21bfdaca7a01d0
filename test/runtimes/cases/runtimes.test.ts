// Runtime-only cases for Bun, Deno, workerd and Firefox (test/runtimes/run.mjs runs them beside the
// contract suite): what the contract suite cannot see from inside vitest there: no timer and no
// listener left behind, the connect deadline refused with a reason, secrets kept out of the runtime's
// own messages, and the package as that runtime resolves it.
import {describe, expect, it} from 'vitest';
import surefetch, {createClient, isFetchError, TimeoutError} from '../../../src/index.js';
import {at, failure, fault, runtime, sleep, stats, uid} from '../../support/fault.js';
import {abortListenersDuring} from '../../support/shared-cases.js';

/** Counts the timers set through the global setTimeout while `work` runs, and how many are still pending after it. */
async function pendingTimersAfter(work: () => Promise<unknown>): Promise<{created: number; pending: number}> {
	const g = globalThis as {setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout};
	const original = {set: g.setTimeout, clear: g.clearTimeout};
	const live = new Set<unknown>();
	let created = 0;
	g.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
		created++;
		const handle: unknown = (original.set as (...args: unknown[]) => unknown).call(globalThis, (...args: unknown[]) => {
			live.delete(handle);
			fn(...args);
		}, ms, ...rest);
		live.add(handle);
		return handle;
	}) as typeof setTimeout;
	g.clearTimeout = ((handle: unknown) => {
		live.delete(handle);
		original.clear.call(globalThis, handle as ReturnType<typeof setTimeout>);
	}) as typeof clearTimeout;
	try {
		await work();
	} finally {
		g.setTimeout = original.set;
		g.clearTimeout = original.clear;
	}
	return {created, pending: live.size};
}

describe(`in ${runtime}`, () => {
	it('the package resolves to the build this runtime should get', async () => {
		// Bun and Deno resolve the `node` condition: the build with the Node error table, which knows a
		// Node code even from a custom fetch; workerd and Firefox get the default build, which does not
		// (so the custom fetch's own error passes through unchanged).
		expect(typeof createClient).toBe('function');
		expect(typeof surefetch.get).toBe('function');
		const mine = Object.assign(new Error('my transport said no'), {code: 'ECONNREFUSED'});
		const outcome = await createClient({retry: 0, fetch: () => Promise.reject(mine)}).get('http://127.0.0.1:9/').catch((e: unknown) => e);
		if (runtime === 'bun' || runtime === 'deno') expect(outcome).toMatchObject({kind: 'network', code: 'refused', cause: mine});
		else expect(outcome).toBe(mine);
	});

	it('no timer is left once requests settle: answered, failed, timed out, aborted, read by the caller', async () => {
		const api = createClient({retry: 0, timeout: {total: 3000, headers: 300, idle: 300}});
		const {created, pending} = await pendingTimersAfter(async () => {
			const controller = new AbortController();
			const calls = [
				api.get(at('/json?size=64')).json(),
				api.get(at('/stall-before-headers')).json(),
				api.get(at('/stall-mid-body?framing=chunked')).text(),
				api.get(at('/reset-mid-body?framing=cl')).text(),
				api.get(at('/status/503')).json(),
				api.get(at('/delay?ms=2000'), {signal: controller.signal}).json(),
				api.get(at('/trickle?every=20&chunks=3')).then((response) => response.text()),
			];
			setTimeout(() => controller.abort(new Error('changed my mind')), 50);
			await Promise.allSettled(calls);
			// What the runtime itself schedules after a settle (a microtask turn or two) is not ours.
			await sleep(20);
		});
		expect(created).toBeGreaterThan(0);
		expect(pending).toBe(0);
	});

	it('a long-lived signal holds one listener while requests run, none after', async () => {
		const {peak, live} = await abortListenersDuring(3, 20);
		expect(peak).toBe(1);
		expect(live).toBe(0);
	});

	it('timeout.connect is refused with the reason: only the Node transport can see the connection', () => {
		expect(() => createClient({timeout: {connect: 1000}})).toThrow(/timeout\.connect needs fetch: createNodeTransport\(\) from 'surefetch\/node' \(fetch cannot see the connection\)/);
	});

	it('a secret in the URL never shows, though the runtime quotes the URL in its own message', async () => {
		// Bun ("ZlibError fetching \"http://…\""), Deno ("error sending request for url (…)") and workerd
		// ("Too many redirects.<urls>") put the URL in their messages.
		const api = createClient({retry: 0, timeout: {total: 5000}});
		for (const path of ['/bad-gzip', '/redirect-loop', '/malformed-status', '/reset-before-headers']) {
			const error = await failure(api.get(at(`${path}?token=hunter2-secret&id=${uid('s')}`)).text());
			const seen = [error.message, JSON.stringify(error.toJSON()), String(error.cause), (error.cause as Error | undefined)?.message ?? '', String((error.cause as {cause?: unknown} | undefined)?.cause ?? '')].join('\n');
			expect(seen, path).not.toContain('hunter2');
		}
		const refused = await failure(api.get(`${fault.refusedUrl}?token=hunter2-secret`));
		expect([refused.message, JSON.stringify(refused.toJSON()), String(refused.cause), String((refused.cause as {cause?: unknown})?.cause ?? '')].join('\n')).not.toContain('hunter2');
	});

	it('deadlines fire in their phase with the runtime\'s own timers, whatever the fetch does', async () => {
		const api = createClient({retry: 0});
		const cases: Array<[string, () => Promise<unknown>, Record<string, unknown>]> = [
			['headers', () => api.get(at('/stall-before-headers'), {timeout: {headers: 200}}).json(), {phase: 'headers', timeout: 200}],
			['idle', () => api.get(at('/stall-mid-body?framing=chunked'), {timeout: {idle: 200}}).text(), {phase: 'idle', timeout: 200}],
			['attempt', () => api.get(at('/trickle?every=100&chunks=20'), {timeout: {attempt: 500}}).text(), {phase: 'attempt', timeout: 500}],
			['total', () => api.get(at('/delay?ms=5000'), {timeout: {total: 300}}).json(), {phase: 'total', timeout: 300}],
		];
		for (const [name, call, expected] of cases) {
			const started = performance.now();
			const error = await failure(call());
			expect(error, name).toBeInstanceOf(TimeoutError);
			expect(error, name).toMatchObject({kind: 'timeout', ...expected});
			// Orders, not tight windows: never early, and long before the next slower thing.
			expect(performance.now() - started, name).toBeGreaterThanOrEqual((expected.timeout as number) - 5);
			expect(performance.now() - started, name).toBeLessThan((expected.timeout as number) + 4000);
		}
	});

	it('the caller\'s abort keeps its reason, and the server sees the request go', async () => {
		const api = createClient({retry: 0});
		const reason = {mine: true};
		const controller = new AbortController();
		const group = uid('abort');
		const pending = api.get(at(`/stall-before-headers?group=${group}`), {signal: controller.signal}).json();
		await sleep(100);
		controller.abort(reason);
		const error = await failure(pending);
		expect(error).toMatchObject({kind: 'aborted', source: 'signal'});
		expect((error as {reason: unknown}).reason).toBe(reason);
		for (let i = 0; i < 40 && (await stats(undefined, group)).groupInFlight > 0; i++) await sleep(50);
		expect((await stats(undefined, group)).groupInFlight).toBe(0);
	});

	it('close() settles queued and in-flight requests with its reason and refuses later calls', async () => {
		const api = createClient({retry: 0});
		const pending = [api.get(at('/stall-before-headers')).json(), api.get(at('/stall-mid-body?framing=chunked')).text()];
		await sleep(100);
		await api.close('bye');
		for (const error of await Promise.all(pending.map(failure))) expect(error).toMatchObject({kind: 'aborted', source: 'client', reason: 'bye'});
		const later = await failure(api.get(at('/ok')).json());
		expect(later.kind).toBe('aborted');
		expect(isFetchError(later)).toBe(true);
	});
});
