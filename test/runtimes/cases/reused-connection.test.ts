// Bun, Deno, workerd, Firefox and Chromium send a request again by themselves when a reused keep-alive
// connection is reset before any byte of the answer: surefetch then sees one attempt that succeeds,
// the server two requests. Node's fetch never does. Which methods each replays is held here exactly,
// because a runtime that replays a POST sends it twice whatever surefetch's retry options say.
// (ky-passthrough.test.ts's beforeRetry test uses a reset mid-body outside Node for that reason.)
import {describe, expect, it} from 'vitest';
import {createClient, NetworkError} from '../../../src/index.js';
import {at, runtime, stats, uid} from '../../support/fault.js';

/** The methods each runtime replays after a reset on a reused connection (measured; see the README's quirks). */
const REPLAYS: Record<string, string[]> = {
	bun: ['GET', 'PUT', 'DELETE'],
	deno: ['GET', 'POST', 'PUT', 'DELETE'],
	workerd: ['GET'],
	firefox: ['GET', 'POST', 'PUT', 'DELETE'],
	// Chromium too (node test/runtimes/run.mjs chromium --files cases/reused-connection.test.ts).
	chromium: ['GET', 'POST', 'PUT', 'DELETE'],
};

describe(`${runtime} replays a request reset on a reused connection`, () => {
	it(`the methods ${runtime} sends again by itself: ${REPLAYS[runtime]?.join(', ')}`, async () => {
		const api = createClient({retry: 0});
		const replayed: string[] = [];
		for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
			await api.get(at('/ok')).json(); // a connection to reuse
			const id = uid(`replay-${method}`);
			const retries: unknown[] = [];
			const outcome = await api(at(`/flaky?id=${id}&fail=1&mode=reset`), {method, body: method === 'GET' ? undefined : 'x', hooks: {beforeRetry: [() => void retries.push(1)]}}).then(
				(response) => response.status,
				(error: unknown) => error,
			);
			const {hits} = await stats(id);
			if (outcome === 200) {
				// Replayed by the runtime: two requests at the server, one attempt and no retry in surefetch.
				expect(hits, method).toBe(2);
				expect(retries, method).toEqual([]);
				replayed.push(method);
			} else {
				expect(outcome, method).toBeInstanceOf(NetworkError);
				expect(hits, method).toBe(1);
			}
		}
		expect(replayed).toEqual(REPLAYS[runtime]);
	});
});
