// The union's shared shape: brand, messages, toJSON(), and no secret anywhere.
import {describe, expect, it} from 'vitest';
import {
	AbortedError, CircuitOpenError, createClient, DecodeError, FetchError, HttpError, InvalidRequestError,
	isFetchError, NetworkError, TimeoutError, type RequestEvent,
} from '../../src/index.js';
import {at, fault, failure} from '../support/fault.js';


describe('errors', () => {
	it('every class extends FetchError and Error, and isFetchError knows them all', async () => {
		const api = createClient({retry: 0});
		const samples = [
			await failure(api.get(at('/stall-before-headers'), {timeout: {headers: 200}})),
			await failure(api.get(at('/ok'), {signal: AbortSignal.abort()})),
			await failure(api.get(fault.refusedUrl)),
			await failure(api.get(at('/status/500'))),
			await failure(api.get(at('/bad-json')).json()),
			await failure(api.get('http://example.com:99999/')),
		];
		const classes = [TimeoutError, AbortedError, NetworkError, HttpError, DecodeError, InvalidRequestError];
		samples.forEach((error, i) => {
			expect(error).toBeInstanceOf(classes[i]!);
			expect(error).toBeInstanceOf(FetchError);
			expect(error).toBeInstanceOf(Error);
			expect(error.name).toBe(classes[i]!.name);
			expect(typeof error.elapsed).toBe('number');
			expect(error.message).toMatch(/^GET /);
		});
		expect(isFetchError(new Error('x'))).toBe(false);
		expect(isFetchError(null)).toBe(false);
		expect(isFetchError({kind: 'timeout'})).toBe(false);
		expect(CircuitOpenError.prototype).toBeInstanceOf(FetchError);
	});

	it('the brand works across copies of the package (no instanceof needed)', () => {
		const foreign = Object.create(null) as Record<symbol, unknown>;
		foreign[Symbol.for('surefetch.FetchError')] = true;
		expect(isFetchError(foreign)).toBe(true);
	});

	it('userinfo and sensitive query values never reach messages, request.url, toJSON() or events', async () => {
		const seen: RequestEvent[] = [];
		const api = createClient({retry: 0, redact: {query: ['session']}, on: {request: (e) => seen.push(e), error: (e) => seen.push(e)}});
		const withToken = at('/status/503?token=T0K3N&session=S3SS&page=2&api_key=K3Y');
		// fetch refuses a URL with credentials; surefetch still must not repeat them.
		const withUserinfo = withToken.replace('http://', 'http://alice:pa55word@');
		const errors = [
			await failure(api.get(withToken, {headers: {authorization: 'Bearer H3ADER'}})),
			await failure(api.get(withUserinfo)),
			await failure(api.get(at('/stall-before-headers?sig=S1G&token=T0K3N'), {timeout: {headers: 50}})),
		];
		for (const error of errors) {
			const texts = [error.message, error.request.url, JSON.stringify(error), JSON.stringify(error.toJSON())];
			for (const text of texts) {
				for (const secret of ['T0K3N', 'S3SS', 'K3Y', 'alice', 'pa55word', 'H3ADER', 'S1G']) expect(text).not.toContain(secret);
			}
		}
		expect(JSON.stringify(seen)).not.toMatch(/T0K3N|S3SS|K3Y|S1G/);
		expect(errors[0]!.request.url).toContain('token=***');
		expect(errors[0]!.request.url).toContain('session=***');
		expect(errors[0]!.request.url).toContain('page=2');
		expect(errors[1]!.request.url).not.toContain('@');
		expect(seen.length).toBeGreaterThanOrEqual(4);
	});

	it('toJSON() is plain data with the kind fields and without headers or body', async () => {
		const api = createClient({retry: 0});
		const error = await failure(api.get(at('/status/500')).json());
		const json = error.toJSON();
		expect(json).toMatchObject({name: 'HttpError', kind: 'http', status: 500, attempts: 1, retryable: true, request: {method: 'GET'}});
		expect(json).not.toHaveProperty('headers');
		expect(json).not.toHaveProperty('body');
		expect(json).not.toHaveProperty('response');
		expect(JSON.parse(JSON.stringify(error))).toEqual(JSON.parse(JSON.stringify(json)));
		const decode = await failure(api.get(at('/html-as-json')).json());
		expect(decode.toJSON()).toMatchObject({kind: 'decode', reason: 'json', snippet: expect.stringMatching(/^<!doctype/i)});
	});

	it('the cause is the original error, untouched', async () => {
		const api = createClient({retry: 0});
		const error = await failure(api.get(fault.refusedUrl));
		expect(error.cause).toBeInstanceOf(Error);
	});
});

describe('safe', () => {
	it('never rejects with a surefetch error', async () => {
		const api = createClient({retry: 0});
		const ok = await api.safe.get(at('/ok')).json<{ok: boolean}>();
		expect(ok).toMatchObject({ok: true, data: {ok: true}});
		if (ok.ok) expect(ok.response).toBeInstanceOf(Response);
		const plain = await api.safe(at('/ok'));
		expect(plain.ok && plain.data).toBeInstanceOf(Response);
		const failures = await Promise.all([
			api.safe.get(at('/stall-before-headers'), {timeout: {headers: 200}}),
			api.safe.get(fault.refusedUrl).text(),
			api.safe.get(at('/status/503')).json(),
			api.safe.get(at('/bad-json')).json(),
			api.safe.get('http://example.com:99999/').bytes(),
			api.safe.post(at('/ok'), {signal: AbortSignal.abort()}).blob(),
		]);
		expect(failures.map((r) => (r.ok ? 'ok' : r.error.kind))).toEqual(['timeout', 'network', 'http', 'decode', 'invalid', 'aborted']);
		await api.close();
		const closed = await api.safe.get(at('/ok')).arrayBuffer();
		expect(closed).toMatchObject({ok: false, error: {kind: 'aborted', source: 'client'}});
	});
});
