// ky's own behaviour for every ky option the SPEC does not replace, as ky's tests expect it:
// parseJson, beforeError/beforeRetry seeing the union, init hooks seeing the caller's options,
// extend with replaceOption and the function form, the Accept header of .json().
import {replaceOption} from 'ky';
import {describe, expect, it} from 'vitest';
import {createClient, HttpError, isFetchError, NetworkError, type FetchFailure} from '../../src/index.js';
import {at, isNode, stats, uid} from '../support/fault.js';

const fast = {delay: () => 10};

describe('parseJson', () => {
	it('is used by .json() and by HttpError.body, and may be async', async () => {
		const raw = (text: string) => ({raw: text});
		const api = createClient({retry: 0, parseJson: raw});
		expect(await api.get(at('/ok')).json()).toEqual({raw: '{"ok":true}'});
		const error = await api.get(at('/status/500')).json().catch((e: unknown) => e) as HttpError;
		expect(error.body).toEqual({raw: '{"error":"Internal Server Error"}'});
		const later = createClient({retry: 0, parseJson: async (text: string) => ({later: text.length})});
		expect(await later.get(at('/ok')).json()).toEqual({later: 11});
		// Per request too; a number JSON.parse would round stays exact.
		const exact = await api.post(at('/echo'), {body: '12345678901234567890', parseJson: (text: string) => (JSON.parse(text) as {body: string}).body}).json();
		expect(exact).toBe('12345678901234567890');
	});

	it('a body it refuses is a DecodeError json, with its error as the cause', async () => {
		const mine = new SyntaxError('not for me');
		const api = createClient({retry: 0, parseJson: () => {
			throw mine;
		}});
		const error = await api.get(at('/ok')).json().catch((e: unknown) => e) as FetchFailure;
		expect(error).toMatchObject({kind: 'decode', reason: 'json'});
		expect(error.cause).toBe(mine);
	});
});

describe('hooks see the union', () => {
	it('beforeError gets the surefetch error, and what it returns is what the caller gets', async () => {
		const seen: unknown[] = [];
		const api = createClient({retry: 0, hooks: {beforeError: [({error}) => {
			seen.push(error);
			error.message = `${error.message} [seen by my hook]`;
			return error;
		}]}});
		const error = await api.get(at('/status/404')).json().catch((e: unknown) => e) as HttpError;
		expect(seen[0]).toBeInstanceOf(HttpError);
		expect(error).toBe(seen[0]);
		expect(error.message).toMatch(/\[seen by my hook\]$/);
		// A network failure and a timeout too.
		const refused = await api.get('http://127.0.0.1:9/').catch((e: unknown) => e);
		expect(refused).toBe(seen[1]);
		expect(isFetchError(refused)).toBe(true);
		// A hook may also replace the error with its own: that is what the caller gets.
		class Mine extends Error {}
		const replacing = createClient({retry: 0, hooks: {beforeError: [() => new Mine('mine')]}});
		await expect(replacing.get(at('/status/500'))).rejects.toBeInstanceOf(Mine);
	});

	it('beforeRetry sees surefetch errors (HttpError, NetworkError) and its retryCount', async () => {
		const seen: Array<[string, number]> = [];
		const api = createClient({retry: {limit: 2, ...fast}, hooks: {beforeRetry: [({error, retryCount}) => {
			seen.push([(error as Error).constructor.name, retryCount]);
		}]}});
		const id = uid('br');
		await api.get(at(`/flaky?id=${id}&fail=1&status=503`)).json();
		// A reset mid-body everywhere; before the headers only in Node: Bun, Deno, workerd, Firefox and
		// Chromium send a request reset on a reused connection again by themselves, so surefetch may never
		// see that reset there (test/runtimes/cases/reused-connection.test.ts).
		const resets = isNode ? ['reset', 'reset-body'] : ['reset-body'];
		for (const mode of resets) await api.get(at(`/flaky?id=${uid(`br-${mode}`)}&fail=1&mode=${mode}`)).json();
		expect(seen).toEqual([[HttpError.name, 1], ...resets.map(() => [NetworkError.name, 1])]);
	});
});

describe('init hooks', () => {
	it('see the caller\'s retry options, and what they change applies', async () => {
		const api = createClient({retry: {limit: 2, methods: ['get'], ...fast}, hooks: {init: [(options) => {
			(options.retry as {methods: string[]}).methods.push('post');
		}]}});
		const id = uid('init');
		expect(await api.post(at(`/flaky?id=${id}&fail=1&status=503`)).json()).toMatchObject({ok: true});
		expect((await stats(id)).hits).toBe(2);
		const none = createClient({retry: {limit: 2, ...fast}, hooks: {init: [(options) => {
			options.retry = 0;
		}]}});
		const once = uid('init0');
		await none.get(at(`/flaky?id=${once}&fail=1&status=503`)).json().catch(() => {});
		expect((await stats(once)).hits).toBe(1);
	});

	it('an error an init hook throws propagates unchanged (as a rejection, never synchronously)', async () => {
		const mine = new Error('init failed');
		const api = createClient({hooks: {init: [() => {
			throw mine;
		}]}});
		let promise: Promise<unknown> | undefined;
		expect(() => {
			promise = api.get(at('/ok')).json();
		}).not.toThrow();
		await expect(promise).rejects.toBe(mine);
	});

	it('one that sets ky\'s own timeout never lets ky\'s TimeoutError escape', async () => {
		const api = createClient({retry: 0, hooks: {init: [(options) => {
			options.timeout = 100;
		}]}});
		const error = await api.get(at('/delay?ms=2000')).catch((e: unknown) => e);
		expect(error).toMatchObject({kind: 'timeout'});
		expect(isFetchError(error)).toBe(true);
	});
});

describe('extend', () => {
	it('takes ky\'s replaceOption values, for its own options and for ky\'s', async () => {
		const parent = createClient({retry: {limit: 3, ...fast}, headers: {'x-a': '1'}, hooks: {beforeRequest: [({request}) => {
			request.headers.set('x-parent-hook', '1');
		}]}});
		const child = parent.extend({retry: replaceOption({limit: 0}), hooks: replaceOption({})});
		const id = uid('replace');
		await child.get(at(`/flaky?id=${id}&fail=1&status=503`)).catch(() => {});
		expect((await stats(id)).hits).toBe(1); // no retry: the parent's limit and delay were replaced
		const echo = await child.get(at('/echo')).json<{headers: Record<string, string>}>();
		expect(echo.headers['x-a']).toBe('1');
		expect(echo.headers['x-parent-hook']).toBeUndefined();
	});

	it('takes ky\'s function form, which sees the parent\'s options', async () => {
		const parent = createClient({headers: {'x-a': '1'}, timeout: {total: 5000}});
		let seen: Record<string, unknown> | undefined;
		const child = parent.extend((options) => {
			seen = options as Record<string, unknown>;
			return {headers: {'x-b': '2'}};
		});
		expect(seen).toMatchObject({headers: {'x-a': '1'}, timeout: {total: 5000}});
		const echo = await child.get(at('/echo')).json<{headers: Record<string, string>}>();
		expect(echo.headers).toMatchObject({'x-a': '1', 'x-b': '2'});
	});
});

describe('.json() and Accept', () => {
	it('sends application/json unless the caller set an Accept, even an empty one', async () => {
		const api = createClient();
		const plain = await api.get(at('/echo')).json<{headers: Record<string, string>}>();
		expect(plain.headers.accept).toBe('application/json');
		const empty = await api.get(at('/echo'), {headers: {accept: ''}}).json<{headers: Record<string, string>}>();
		expect(empty.headers.accept).toBe('application/json');
		const mine = await api.get(at('/echo'), {headers: {accept: 'application/vnd.api+json'}}).json<{headers: Record<string, string>}>();
		expect(mine.headers.accept).toBe('application/vnd.api+json');
	});
});
