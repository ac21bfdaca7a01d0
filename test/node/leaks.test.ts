// Node-only guarantees: no listener left on a long-lived signal, no timer left, and a script exits
// as soon as its last request settles.
import {getEventListeners} from 'node:events';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {createClient} from '../../src/index.js';
import {at} from '../support/fault.js';
import {runNodeChild} from '../support/child.js';

const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

describe('no leak', () => {
	it('1,000 requests on a client with a long-lived signal leave 0 listeners and no timers', async () => {
		const before = timers();
		const lifetime = new AbortController();
		const perRequest = new AbortController();
		const api = createClient({signal: lifetime.signal, retry: 0});
		let peak = 0;
		for (let round = 0; round < 10; round++) {
			const batch = Array.from({length: 100}, (_, i) => {
				const call = api.get(at(`/json?size=64&n=${round * 100 + i}`), {signal: perRequest.signal});
				return i % 3 === 0 ? call.json() : i % 3 === 1 ? call.text() : call.then((r) => r.arrayBuffer());
			});
			peak = Math.max(peak, getEventListeners(lifetime.signal, 'abort').length, getEventListeners(perRequest.signal, 'abort').length);
			await Promise.all(batch);
		}
		expect(peak).toBe(1); // one listener per external signal while requests are in flight, never one per request
		expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
		expect(getEventListeners(perRequest.signal, 'abort')).toHaveLength(0);
		expect(timers()).toBeLessThanOrEqual(before);
	});

	it('failures leave no timer or listener either', async () => {
		const before = timers();
		const lifetime = new AbortController();
		const api = createClient({signal: lifetime.signal, retry: {limit: 1, delay: () => 5}, timeout: {headers: 100, idle: 100}});
		await Promise.allSettled([
			api.get(at('/stall-before-headers')).json(),
			api.get(at('/stall-mid-body?framing=cl')).json(),
			api.get(at('/reset-mid-body?framing=chunked')).text(),
			api.get(at('/status/503')).json(),
			api.get(at('/bad-json')).json(),
			api.get(at('/stall-mid-body?framing=chunked')).then((r) => r.text()),
		]);
		expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
		expect(timers()).toBeLessThanOrEqual(before);
	});
});

describe('process exit', () => {
	const dist = fileURLToPath(new URL('../../dist/node/index.js', import.meta.url));

	/** Runs a script; `refTimers`: ref'd timers alive when it printed "settled" (any would hold the process). */
	async function runScript(source: string): Promise<{code: number | null; afterLast: number; refTimers: number | undefined; output: string}> {
		let lastAt = 0;
		const {code, stdout, stderr} = await runNodeChild(source, {limitMs: 30_000, onStdout: (all) => {
			if (all.includes('settled')) lastAt ||= performance.now();
		}});
		const line = /settled (\d+)/.exec(stdout);
		return {code, afterLast: performance.now() - lastAt, refTimers: line ? Number(line[1]) : undefined, output: stdout + stderr};
	}

	for (const [name, call] of [
		['a reader', `await api.get(${JSON.stringify(at('/ok'))}).json()`],
		['a failure', `await api.get(${JSON.stringify(at('/status/404'))}).json().catch(() => {})`],
		['a body read by the caller', `await (await api.get(${JSON.stringify(at('/ok'))})).text()`],
		['a stall cut by its deadline', `await api.get(${JSON.stringify(at('/stall-before-headers'))}, {timeout: {headers: 100}, retry: 0}).catch(() => {})`],
	] as const) {
		// Nothing of surefetch's may keep the process alive: no ref'd timer at that moment (exact,
		// whatever the machine's load), and the process gone within a few seconds, far sooner than any
		// default deadline (the shortest is 10 s) or a connection left open (the server never closes it).
		it(`a Node script exits as soon as its last request settles (${name})`, async () => {
			const source = `import {createClient} from ${JSON.stringify(dist)};
const api = createClient();
${call};
process.stdout.write('settled ' + process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length + '\\n');`;
			const result = await runScript(source);
			expect(result.output).toContain('settled');
			expect(result.refTimers).toBe(0);
			expect(result.code).toBe(0);
			expect(result.afterLast).toBeLessThan(5000);
		});
	}
});
