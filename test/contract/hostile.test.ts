// No hang and nothing raw, whatever a transport does: a custom fetch whose promise and body never
// settle and ignore abort and cancel, a fetch that reads only its Request, a runtime stream that
// ignores its abort (Node 22.23.3 with a gzip body that fails late), a status no Response
// constructor accepts.
import {describe, expect, it} from 'vitest';
import {createClient, isFetchError, type FetchFailure} from '../../src/index.js';
import {at, isNode, runtime, sleep, stats, uid} from '../support/fault.js';

const slack = 1500; // upper window: machines stall

async function timed(promise: Promise<unknown>): Promise<{error: FetchFailure; ms: number}> {
	const started = performance.now();
	const error = await promise.then(() => {
		throw new Error('expected a failure');
	}, (e: unknown) => e);
	expect(isFetchError(error), String(error)).toBe(true);
	return {error: error as FetchFailure, ms: performance.now() - started};
}

/** A fetch that never answers and ignores its signal; it counts its calls and aborts seen. */
function deaf() {
	const seen = {calls: 0, aborts: 0};
	const fetch = ((_input: RequestInfo | URL, init?: RequestInit) => {
		seen.calls++;
		init?.signal?.addEventListener('abort', () => seen.aborts++);
		return new Promise<Response>(() => {});
	}) as typeof globalThis.fetch;
	return {fetch, seen};
}

/** A fetch whose headers come at once but whose body never delivers and ignores cancel. */
function mute(): typeof globalThis.fetch {
	return (async () => new Response(new ReadableStream({pull: () => new Promise(() => {}), cancel: () => new Promise(() => {})}), {headers: {'content-type': 'application/json'}})) as typeof globalThis.fetch;
}

describe('a transport that never settles and ignores abort', () => {
	it('headers, attempt and total deadlines still fire, in their phase', async () => {
		for (const [timeout, phase] of [[{headers: 200}, 'headers'], [{attempt: 200}, 'attempt'], [{total: 200}, 'total']] as const) {
			const {fetch, seen} = deaf();
			const api = createClient({retry: 0, fetch, timeout});
			const {error, ms} = await timed(api.get('http://127.0.0.1:9/never').json());
			expect(error).toMatchObject({kind: 'timeout', phase, timeout: 200});
			expect(ms).toBeGreaterThanOrEqual(180);
			expect(ms).toBeLessThan(200 + slack);
			expect(seen).toEqual({calls: 1, aborts: 1}); // the abort was sent, and ignored
		}
	});

	it('a retry after a deadline of a deaf attempt starts a new attempt', async () => {
		const {fetch, seen} = deaf();
		const api = createClient({retry: {limit: 2, delay: () => 10}, fetch, timeout: {headers: 100}});
		const {error} = await timed(api.get('http://127.0.0.1:9/never'));
		expect(error).toMatchObject({kind: 'timeout', phase: 'headers', attempts: 3});
		expect(seen.calls).toBe(3);
	});

	it('idle: a body that never delivers, read by a reader or by the caller', async () => {
		const api = createClient({retry: 0, fetch: mute(), timeout: {idle: 200}});
		const {error} = await timed(api.get('http://127.0.0.1:9/mute').json());
		expect(error).toMatchObject({kind: 'timeout', phase: 'idle', timeout: 200});
		const response = await api.get('http://127.0.0.1:9/mute');
		const {error: late, ms} = await timed(response.text());
		expect(late).toMatchObject({kind: 'timeout', phase: 'idle'});
		expect(ms).toBeLessThan(200 + slack);
	});

	it('the caller\'s abort keeps its reason, at any phase', async () => {
		const reason = new Error('user left');
		for (const fetch of [deaf().fetch, mute()]) {
			const api = createClient({retry: 0, fetch});
			const controller = new AbortController();
			setTimeout(() => controller.abort(reason), 100);
			const {error, ms} = await timed(api.get('http://127.0.0.1:9/x', {signal: controller.signal}).text());
			expect(error).toMatchObject({kind: 'aborted', source: 'signal'});
			expect((error as {reason: unknown}).reason).toBe(reason);
			expect(ms).toBeLessThan(100 + slack);
		}
	});

	it('close() settles every call and resolves', async () => {
		const api = createClient({retry: 0, fetch: deaf().fetch});
		const mutes = createClient({retry: 0, fetch: mute()});
		const pending = [api.get('http://127.0.0.1:9/a').json(), api.get('http://127.0.0.1:9/b')];
		const handed = await mutes.get('http://127.0.0.1:9/c');
		const reading = handed.arrayBuffer();
		await sleep(50);
		const started = performance.now();
		await Promise.all([api.close('bye'), mutes.close('bye')]);
		expect(performance.now() - started).toBeLessThan(slack);
		for (const result of await Promise.all([...pending, reading].map((p) => p.catch((e: unknown) => e)))) {
			expect(result).toMatchObject({kind: 'aborted', source: 'client', reason: 'bye'});
		}
	});
});

describe('a custom fetch that reads only its Request', () => {
	const requestOnly = ((request: Request) => globalThis.fetch(request)) as typeof globalThis.fetch;

	it('sees the attempt\'s abort on the Request: a deadline releases the server\'s request', async () => {
		const group = uid('req-only');
		const api = createClient({retry: 0, fetch: requestOnly, timeout: {headers: 300}});
		const {error} = await timed(api.get(at(`/stall-before-headers?group=${group}`)));
		expect(error).toMatchObject({kind: 'timeout', phase: 'headers'});
		for (let i = 0; i < 40 && (await stats(undefined, group)).groupInFlight > 0; i++) await sleep(50);
		expect((await stats(undefined, group)).groupInFlight).toBe(0);
	});

	it('and the caller\'s abort', async () => {
		const group = uid('req-only-abort');
		const api = createClient({retry: 0, fetch: requestOnly});
		const controller = new AbortController();
		setTimeout(() => controller.abort('stop'), 100);
		const {error} = await timed(api.get(at(`/stall-before-headers?group=${group}`), {signal: controller.signal}));
		expect(error).toMatchObject({kind: 'aborted', reason: 'stop'});
		for (let i = 0; i < 40 && (await stats(undefined, group)).groupInFlight > 0; i++) await sleep(50);
		expect((await stats(undefined, group)).groupInFlight).toBe(0);
	});
});

describe('the runtime\'s own stream', () => {
	it('a gzip body that fails after the headers settles by the total deadline (Node 22.23.3 ignores the abort there)', async () => {
		const api = createClient({retry: 0, timeout: {total: 1500}});
		for (const read of [(url: string) => api.get(url).json(), async (url: string) => (await api.get(url)).text()]) {
			const started = performance.now();
			const outcome = await read(at('/gzip-late-garbage?ms=100')).then(() => undefined, (e: unknown) => e);
			// Node reports the bad gzip (protocol) or goes silent until the deadline; Chromium keeps what it could decode.
			if (outcome !== undefined) {
				expect(isFetchError(outcome), String(outcome)).toBe(true);
				expect(['network', 'timeout']).toContain((outcome as FetchFailure).kind);
			} else {
				expect(isNode).toBe(false);
			}
			expect(performance.now() - started).toBeLessThan(1500 + slack);
		}
	});
});

describe('any status line fetch hands over', () => {
	it('999: a Response with throwHttpErrors false, an HttpError otherwise, never a raw RangeError', async () => {
		const api = createClient({retry: 0});
		const response = await api.get(at('/status-line?code=999&text=Weird'), {throwHttpErrors: false});
		expect([response.status, response.ok]).toEqual([999, false]);
		// Deno gives the code's canonical reason phrase, never the server's: test/runtimes/cases/deno/deno.test.ts.
		if (runtime !== 'deno') expect(response.statusText).toBe('Weird');
		expect(await response.json()).toEqual({status: 999});
		const error = (await timed(api.get(at('/status-line?code=999')).json())).error;
		expect(error).toMatchObject({kind: 'http', status: 999, body: {status: 999}});
		const safe = await api.safe.get(at('/status-line?code=999')).text();
		expect(safe).toMatchObject({ok: false, error: {kind: 'http', status: 999}});
		const caller = await api.get(at('/status-line?code=999'), {throwHttpErrors: false, hooks: {afterResponse: [({response}) => response]}});
		expect(caller.status).toBe(999);
	});
});

describe('maxBodyBytes holds for a body the caller reads', () => {
	it('chunked, with a Content-Length, and gzip-inflated: DecodeError too-large, the rest cancelled', async () => {
		const api = createClient({retry: 0, maxBodyBytes: 100_000});
		for (const path of ['/big?n=3000000&cl=0', '/big?n=3000000', '/gzip-bomb?mb=8']) {
			const group = uid('cap');
			const response = await api.get(at(`${path}&group=${group}`));
			const {error} = await timed(response.arrayBuffer());
			expect(error, path).toMatchObject({kind: 'decode', reason: 'too-large'});
			for (let i = 0; i < 40 && (await stats(undefined, group)).groupInFlight > 0; i++) await sleep(50);
			expect((await stats(undefined, group)).groupInFlight, path).toBe(0);
		}
		// Read through the stream, chunk by chunk: the same.
		const reader = (await api.get(at('/big?n=3000000&cl=0'))).body!.getReader();
		const {error} = await timed((async () => {
			for (;;) if ((await reader.read()).done) return;
		})());
		expect(error).toMatchObject({kind: 'decode', reason: 'too-large'});
		// Under the cap, the whole body.
		expect((await (await api.get(at('/big?n=99000&cl=0'))).arrayBuffer()).byteLength).toBe(99_000);
	});
});

describe('what a custom fetch throws', () => {
	it('a bare network message is a NetworkError (never ky\'s own wrapper, never the raw URL); an error of its own passes unchanged', async () => {
		for (const message of ['fetch failed', 'Failed to fetch', 'Network connection lost', ' A network error occurred.', 'error sending request for url (http://x/)']) {
			const api = createClient({retry: 0, fetch: async () => {
				throw new TypeError(message);
			}});
			const error = await api.get('http://127.0.0.1:9/x?token=T0K3N').catch((e: unknown) => e) as FetchFailure;
			expect(error, message).toMatchObject({kind: 'network', code: 'unknown', phase: 'headers'});
			expect(error.name).toBe('NetworkError');
			expect(`${error.message} ${JSON.stringify(error)}`).not.toMatch(/pa55w0rd|T0K3N/);
		}
		const mine = new RangeError('my transport');
		const api = createClient({retry: 0, fetch: async () => {
			throw mine;
		}});
		await expect(api.get('http://127.0.0.1:9/x')).rejects.toBe(mine);
	});
});
