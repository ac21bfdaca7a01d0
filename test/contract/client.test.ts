// The client: callable and shortcuts, readers, extend, close, options validation, ky pass-through.
import {describe, expect, it} from 'vitest';
import surefetch, {breaker, createClient, hedge, limit} from '../../src/index.js';
import {at, failure, runtime, sleep, stats, uid} from '../support/fault.js';


describe('client', () => {
	it('is callable, has method shortcuts, and the default export is a ready client', async () => {
		const api = createClient({baseUrl: at('/')});
		expect(await api('echo', {method: 'PATCH'}).json()).toMatchObject({method: 'PATCH'});
		for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
			expect(await api[method]('echo').json()).toMatchObject({method: method.toUpperCase()});
		}
		const head = await api.head('ok');
		expect(head.status).toBe(200);
		expect(await surefetch.get(at('/ok')).json()).toEqual({ok: true});
	});

	it('resolves to a Response once headers arrived, with the original url', async () => {
		const response = await createClient().get(at('/ok'));
		expect(response).toBeInstanceOf(Response);
		expect(response.status).toBe(200);
		expect(response.url).toBe(at('/ok'));
		expect(await response.json()).toEqual({ok: true});
	});

	it('after a reader, the Response (safe\'s `response`) keeps status, headers and url; its body went to the reader', async () => {
		const result = await createClient().safe.get(at('/charset/gbk?as=json')).json();
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(result.response.status).toBe(200);
		expect(result.response.url).toBe(at('/charset/gbk?as=json'));
		expect(result.response.headers.get('content-type')).toContain('charset=gbk');
		expect(result.response).toBeInstanceOf(Response);
		// With afterResponse hooks the body is kept readable for them (and for you).
		const hooked = await createClient({hooks: {afterResponse: [() => undefined]}}).safe.get(at('/charset/gbk?as=json')).json();
		if (!hooked.ok) throw hooked.error;
		expect(await hooked.response.clone().bytes()).toBeInstanceOf(Uint8Array);
		expect(await hooked.response.text()).toContain('greeting');
	});

	it('passes ky options through: json body, searchParams, headers, hooks, throwHttpErrors', async () => {
		const api = createClient({
			prefix: at('/'),
			headers: {'x-client': 'a'},
			hooks: {beforeRequest: [({request}) => {
				request.headers.set('x-hook', 'yes');
			}]},
		});
		const echo = await api.post('echo', {json: {hello: 'world'}, searchParams: {q: '1'}, headers: {'x-request': 'b'}}).json<{
			method: string; url: string; headers: Record<string, string>; body: string;
		}>();
		expect(echo.method).toBe('POST');
		expect(echo.url).toContain('q=1');
		expect(echo.headers).toMatchObject({'x-client': 'a', 'x-request': 'b', 'x-hook': 'yes', 'content-type': 'application/json'});
		expect(JSON.parse(echo.body)).toEqual({hello: 'world'});
		const notFound = await api.get('status/404', {throwHttpErrors: false});
		expect(notFound.status).toBe(404);
	});

	it('an error thrown by a hook propagates unchanged', async () => {
		const mine = new Error('hook bug');
		const api = createClient({hooks: {beforeRequest: [() => {
			throw mine;
		}]}});
		await expect(api.get(at('/ok')).json()).rejects.toBe(mine);
		await expect(api.safe.get(at('/ok')).json()).rejects.toBe(mine);
	});

	it('extend merges defaults and shares the lifecycle', async () => {
		const parent = createClient({headers: {'x-a': '1'}, timeout: {total: 5000}});
		const child = parent.extend({headers: {'x-b': '2'}, timeout: {headers: 300}, retry: 0});
		// (A busy machine may take longer than 300 ms to answer the echo: this one call may wait longer.)
		const echo = await child.get(at('/echo'), {timeout: {headers: 5000}}).json<{headers: Record<string, string>}>();
		expect(echo.headers).toMatchObject({'x-a': '1', 'x-b': '2'});
		const stalled = await failure(child.get(at('/stall-before-headers')));
		expect(stalled).toMatchObject({kind: 'timeout', phase: 'headers', timeout: 300});
		await parent.close();
		const closed = await failure(child.get(at('/ok')));
		expect(closed).toMatchObject({kind: 'aborted', source: 'client'});
	});

	it('close() aborts in-flight and queued requests and open bodies, resolves when all settled, refuses later calls', async () => {
		const api = createClient({use: [limit({concurrency: 2})], retry: 0});
		const id = uid('close');
		const handed = await api.get(at(`/stall-mid-body?framing=cl&id=${id}`));
		const inFlight = api.get(at(`/stall-before-headers?id=${id}`)).json();
		const queued = api.get(at(`/ok?id=${id}`)).json();
		// Until the server has the second request (bounded: 50 x 100 ms).
		for (let i = 0; i < 50 && (await stats(id)).hits < 2; i++) await sleep(100);
		expect((await stats(id)).hits).toBe(2);
		const reason = new Error('shutting down');
		const closing = api.close(reason);
		const [a, b, c] = await Promise.all([failure(inFlight), failure(queued), failure(handed.text())]);
		await closing;
		expect(a).toMatchObject({kind: 'aborted', source: 'client', reason, attempts: 1});
		expect(b).toMatchObject({kind: 'aborted', source: 'client', reason, attempts: 0});
		expect(c).toMatchObject({kind: 'aborted', source: 'client', reason});
		await expect(api.close()).resolves.toBeUndefined();
		const later = await failure(api.get(at('/ok')));
		expect(later).toMatchObject({kind: 'aborted', source: 'client', attempts: 0});
		expect((await stats(id)).hits).toBe(2);
	});

	it('Symbol.asyncDispose closes the client', async () => {
		const api = createClient();
		const pending = api.get(at('/stall-before-headers')).json();
		await sleep(50);
		await api[Symbol.asyncDispose]();
		expect(await failure(pending)).toMatchObject({kind: 'aborted', source: 'client'});
	});

	it('aborting the client signal closes it with the signal reason', async () => {
		const lifetime = new AbortController();
		const api = createClient({signal: lifetime.signal});
		const pending = api.get(at('/stall-before-headers')).json();
		await sleep(50);
		lifetime.abort('page unloaded');
		expect(await failure(pending)).toMatchObject({kind: 'aborted', source: 'client', reason: 'page unloaded'});
		expect(await failure(api.get(at('/ok')))).toMatchObject({kind: 'aborted', source: 'client'});
	});
});

describe('options', () => {
	it('createClient throws a TypeError or RangeError naming the option and the rule', () => {
		expect(() => createClient({timeout: {headers: 20_000, total: 10_000}})).toThrow(new RangeError('timeout.headers (20000) cannot exceed timeout.total (10000)'));
		expect(() => createClient({timeout: {total: -1}})).toThrow(RangeError);
		expect(() => createClient({timeout: {bogus: 1} as never})).toThrow(/timeout\.bogus/);
		expect(() => createClient({timeout: 'soon' as never})).toThrow(TypeError);
		expect(() => createClient({retry: {limit: 1.5}})).toThrow(/retry\.limit/);
		expect(() => limit({concurrency: 0})).toThrow(new RangeError('limit.concurrency (0) must be a positive integer'));
		expect(() => breaker({failures: 'x' as never})).toThrow(TypeError);
		expect(() => hedge({max: 1} as never)).toThrow(/hedge\.delay/);
		// The options that became policies say what to write instead.
		expect(() => createClient({limit: {concurrency: 2}} as never)).toThrow(/use: \[limit/);
		expect(() => createClient({breaker: {}} as never)).toThrow(/use: \[breaker/);
		expect(() => createClient({hedge: {delay: 1}} as never)).toThrow(/use: \[hedge/);
		expect(() => createClient({use: [{}] as never})).toThrow(/use/);
		expect(() => createClient({maxBodyBytes: -5})).toThrow(RangeError);
		expect(() => createClient({decode: {json: 'loose' as never}})).toThrow(/decode\.json/);
		expect(() => createClient({timeout: {connect: 1000}})).toThrow(/timeout\.connect.*surefetch\/node/);
		expect(() => createClient({on: {request: 'log' as never}})).toThrow(/on\.request \("log"\) must be a function/);
		expect(() => createClient({prefixUrl: 'x'} as never)).toThrow(/prefix/);
	});

	it('bad per-request input never throws synchronously: the promise rejects with InvalidRequestError', async () => {
		const api = createClient();
		const cases: Array<[() => Promise<unknown>, string]> = [
			[() => api.get('http://exa mple.com:99999/'), 'url'],
			[() => api.get('http://[::1/unclosed'), 'url'],
			[() => api.get(at('/ok'), {headers: {'x-bad': 'a\r\nInjected: 1'}}), 'header'],
			// Bun's Request takes any method and sends a GET: test/runtimes/cases/bun/bun.test.ts.
			...(runtime === 'bun' ? [] : [[() => api(at('/ok'), {method: 'BAD METHOD'}), 'method'] as [() => Promise<unknown>, string]]),
			[() => api.get(at('/ok'), {body: 'data'}), 'body'],
			[() => api.get('ftp://127.0.0.1/file'), 'url'],
			[() => api.get(at('/ok'), {timeout: {total: -1}}), 'option'],
			[() => api.get(at('/ok'), {use: [limit({concurrency: 1})]} as never), 'option'],
			[() => api.get(at('/ok')).json({not: 'a schema'} as never), 'option'],
		];
		for (const [call, reason] of cases) {
			let promise: Promise<unknown> | undefined;
			expect(() => {
				promise = call();
			}).not.toThrow();
			const error = await failure(promise!);
			expect(error, error.message).toMatchObject({kind: 'invalid', reason, retryable: false});
			expect(error.message).not.toMatch(/[\r\n]/);
		}
	});
});
