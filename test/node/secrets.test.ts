// No secret anywhere: every error kind, through every form a person or a log sees it (message,
// String, stack, JSON, toJSON, util.inspect (what console.log prints), listener events, `safe`
// results), with secrets in userinfo, in sensitive query values and in header values, valid or not.
import {inspect} from 'node:util';
import {describe, expect, it} from 'vitest';
import {breaker, createClient, InvalidRequestError, isFetchError, type ErrorEvent, type FetchFailure} from '../../src/index.js';
import {at, fault} from '../support/fault.js';

const secrets = ['S3CR3T', 'T0K3N', 'alice', 'pa55w0rd', 'K3YV4L', 'S1GN4'];

function forms(value: unknown): string[] {
	const error = value as Error;
	return [
		String(error),
		error.message ?? '',
		error.stack ?? '',
		JSON.stringify(error),
		JSON.stringify((error as {toJSON?: () => unknown}).toJSON?.() ?? null),
		inspect(error),
		inspect({wrapped: error}),
	];
}

function expectNoSecret(value: unknown, label: string): void {
	for (const text of forms(value)) {
		for (const secret of secrets) expect(text, `${label}: ${secret} in ${text.slice(0, 300)}`).not.toContain(secret);
	}
}

describe('no secret in any output of any error', () => {
	const events: ErrorEvent[] = [];
	const api = createClient({retry: 0, timeout: {headers: 300}, on: {error: (e) => events.push(e)}});
	const secretQuery = 'token=T0K3N&api_key=K3YV4L&sig=S1GN4&page=2';

	const cases: Array<[string, () => Promise<unknown>, Partial<FetchFailure>]> = [
		['a header value with CR/LF', () => api.get(at('/echo'), {headers: {authorization: 'Bearer S3CR3T\nX-Injected: y'}}), {kind: 'invalid', reason: 'header'} as never],
		['a header value with a NUL', () => api.get(at('/echo'), {headers: {'x-api-key': 'S3CR3T\0'}}), {kind: 'invalid', reason: 'header'} as never],
		['a header value above U+00FF', () => api.get(at('/echo'), {headers: {authorization: 'Bearer S3CR3T€'}}), {kind: 'invalid', reason: 'header'} as never],
		['a client header value with CR/LF', () => createClient({headers: {authorization: 'Bearer S3CR3T\r\nX: y'}}).get(at('/echo')), {kind: 'invalid', reason: 'header'} as never],
		['a URL that does not parse, with userinfo and a token', () => api.get(`http://alice:pa55w0rd@exa mple.com/?${secretQuery}`), {kind: 'invalid', reason: 'url'} as never],
		['a URL with credentials (fetch refuses it)', () => api.get(at(`/ok?${secretQuery}`).replace('http://', 'http://alice:pa55w0rd@')), {kind: 'invalid'} as never],
		['an HTTP error with a token in the query', () => api.get(at(`/status/500?${secretQuery}`), {headers: {authorization: 'Bearer S3CR3T'}}), {kind: 'http', status: 500} as never],
		['a timeout', () => api.get(at(`/stall-before-headers?${secretQuery}`)), {kind: 'timeout', phase: 'headers'} as never],
		['a refused connection', () => api.get(`${fault.refusedUrl}?${secretQuery}`), {kind: 'network', code: 'refused'} as never],
		['a decode failure', () => api.get(at(`/bad-json?${secretQuery}`)).json(), {kind: 'decode', reason: 'json'} as never],
		['an abort', () => api.get(at(`/stall-before-headers?${secretQuery}`), {signal: AbortSignal.abort(new Error('stop'))}), {kind: 'aborted'} as never],
		['an open circuit', async () => {
			const guarded = createClient({retry: 0, use: [breaker({failures: 1, cooldown: 60_000})]});
			await guarded.get(at(`/status/503?${secretQuery}`)).catch(() => {});
			return guarded.get(at(`/ok?${secretQuery}`));
		}, {kind: 'circuit-open'} as never],
	];

	for (const [name, call, expected] of cases) {
		it(name, async () => {
			const error = await call().then(() => {
				throw new Error('expected a failure');
			}, (e: unknown) => e);
			expect(isFetchError(error), String(error)).toBe(true);
			expect(error).toMatchObject(expected);
			expectNoSecret(error, name);
			// The cause is kept, as its own class, when it had to be redacted.
			const cause = (error as {cause?: unknown}).cause;
			if (cause instanceof Error) expect(cause.constructor).not.toBe(Object);
		});
	}

	it('listener events and safe results hold no secret either', async () => {
		await api.get(at(`/status/500?${secretQuery}`)).catch(() => {});
		await api.get(at('/echo'), {headers: {authorization: 'Bearer S3CR3T\nX: y'}}).catch(() => {});
		expect(events.length).toBeGreaterThanOrEqual(2);
		for (const event of events) {
			for (const text of [JSON.stringify(event), inspect(event)]) for (const secret of secrets) expect(text).not.toContain(secret);
		}
		const result = await api.safe.get(at(`/status/401?${secretQuery}`), {headers: {authorization: 'Bearer S3CR3T'}}).json();
		for (const text of [JSON.stringify(result), inspect(result)]) for (const secret of secrets) expect(text).not.toContain(secret);
	});

	it('an invalid header is named, never quoted, and is reason header (not option)', async () => {
		const error = await api.get(at('/echo'), {headers: {'X-Api-Key': 'S3CR3T€'}}).catch((e: unknown) => e) as InvalidRequestError;
		expect(error).toBeInstanceOf(InvalidRequestError);
		expect(error.reason).toBe('header');
		expect(error.message.toLowerCase()).toContain('x-api-key');
	});

	it('a redacted cause keeps its class, its code and the rest of its text', async () => {
		const error = await api.get(`http://alice:pa55w0rd@exa mple.com/?${secretQuery}`).catch((e: unknown) => e) as FetchFailure;
		const cause = error.cause as Error & {code?: string; input?: string};
		expect(cause).toBeInstanceOf(TypeError);
		expect(cause.input).toBeUndefined();
		expect(cause.message).toMatch(/URL/);
	});
});
