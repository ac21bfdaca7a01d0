// Bun, Deno, workerd and Firefox send a request again by themselves when a reused keep-alive
// connection is reset before any byte of the answer: surefetch then sees one attempt that succeeds,
// the server two requests. Node's fetch never does. Which methods each replays is held here exactly,
// because a runtime that replays a POST sends it twice whatever surefetch's retry options say.
// ky-passthrough.test.ts's "beforeRetry sees … NetworkError" cannot see that reset in these runtimes,
// so its variant is here, with a reset mid-body (which no runtime replays).
import {describe, expect, it} from 'vitest';
import {createClient, NetworkError, HttpError} from '../../../src/index.js';
import {at, runtime, stats, uid} from '../../support/fault.js';

/** The methods each runtime replays after a reset on a reused connection (measured; see the README's quirks). */
const REPLAYS: Record<string, string[]> = {
	bun: ['GET', 'PUT', 'DELETE'],
	deno: ['GET', 'POST', 'PUT', 'DELETE'],
	workerd: ['GET'],
	firefox: ['GET', 'POST', 'PUT', 'DELETE'],
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

	it('beforeRetry sees surefetch errors (HttpError, NetworkError) and its retryCount: the reset mid-body variant', async () => {
		const seen: Array<[string, number]> = [];
		const api = createClient({retry: {limit: 2, delay: () => 1, jitter: false}, hooks: {beforeRetry: [({error, retryCount}) => {
			seen.push([(error as Error).constructor.name, retryCount]);
		}]}});
		await api.get(at(`/flaky?id=${uid('br')}&fail=1&status=503`)).json();
		await api.get(at(`/flaky?id=${uid('br-body')}&fail=1&mode=reset-body`)).json();
		expect(seen).toEqual([[HttpError.name, 1], [NetworkError.name, 1]]);
	});
});
