// MSW 3 (`msw/node`'s setupServer) in front of surefetch: what a user's tests see. The default
// client calls the global fetch, which MSW intercepts; surefetch/node dispatches on npm undici's
// Agent, which setupServer does not patch, so its requests reach the real server (here: the fault
// server). MSW's socket-level HttpRequestInterceptor (msw/experimental) does catch those.
import {HttpRequestInterceptor} from '@mswjs/interceptors/http';
import {delay, http, HttpResponse} from 'msw';
import {defineNetwork, InterceptorSource} from 'msw/experimental';
import {setupServer} from 'msw/node';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import surefetch, {createClient, HttpError, NetworkError, TimeoutError} from '../../src/index.js';
import {createNodeTransport} from '../../src/node/index.js';
import {charsets} from '../fault-server/charsets.js';
import {at, failure, stats, uid} from '../support/fault.js';

const api = 'https://api.surefetch.test';
let calls = 0;

const server = setupServer(
	http.get(`${api}/users/1`, () => HttpResponse.json({id: 1, name: 'Ada'})),
	http.get(`${api}/gbk`, () => new HttpResponse(charsets.gbk.bytes.json, {headers: {'content-type': 'application/json; charset=gbk'}})),
	http.get(`${api}/down`, () => {
		calls++;
		return HttpResponse.error();
	}),
	http.get(`${api}/slow`, async () => {
		await delay(8_000);
		return HttpResponse.json({late: true});
	}),
	http.get(`${api}/missing`, () => HttpResponse.json({error: 'no such user'}, {status: 404})),
	http.get(`${api}/gbk-error`, () => new HttpResponse(charsets.gbk.bytes.text, {status: 500, headers: {'content-type': 'text/plain; charset=gbk'}})),
);

describe('MSW setupServer in front of the default client (global fetch)', () => {
	// Anything unhandled is an error, except the fault server's own counters (`stats` uses fetch).
	beforeAll(() => server.listen({
		onUnhandledFrame: ({frame, defaults}) => {
			const {request} = frame.data as {request?: Request};
			if (!request || new URL(request.url).pathname !== '/__stats') return defaults.error();
		},
	}));
	afterEach(() => server.resetHandlers());
	afterAll(() => server.close());

	it('a handler\'s JSON arrives through .json()', async () => {
		expect(await surefetch.get(`${api}/users/1`).json()).toEqual({id: 1, name: 'Ada'});
	});

	it('a GBK body keeps its charset through MSW: surefetch decodes it, the raw fetch gives U+FFFD', async () => {
		expect(await surefetch.get(`${api}/gbk`).json()).toEqual(charsets.gbk.json);
		expect(await surefetch.get(`${api}/gbk`).text()).toBe(JSON.stringify(charsets.gbk.json));
		expect(await (await fetch(`${api}/gbk`)).text()).toContain('\uFFFD'); // fetch's text() is UTF-8
	});

	it('HttpResponse.error() is a NetworkError "unknown" before the headers, retried like any network failure', async () => {
		// MSW destroys the socket, and its fetch patch puts the error Response as the cause of undici's
		// `TypeError: fetch failed`: no error code and no known message anywhere, so nothing says
		// dns/refused/reset, and the union says `unknown`.
		calls = 0;
		const error = await failure(surefetch.get(`${api}/down`, {retry: {limit: 2, delay: () => 10}}));
		expect(error).toBeInstanceOf(NetworkError);
		expect(error).toMatchObject({kind: 'network', code: 'unknown', phase: 'headers', retryable: true, attempts: 3});
		expect(calls).toBe(3);
		const cause = error.cause as {name: string; message: string; cause?: unknown};
		expect(cause).toMatchObject({name: 'TypeError', message: 'fetch failed'});
		expect(cause.cause).toBeInstanceOf(Response);
		expect((cause.cause as Response).type).toBe('error');
	});

	it('a handler that waits longer than timeout.headers is cut by it: TimeoutError phase headers', async () => {
		const started = performance.now();
		const error = await failure(surefetch.get(`${api}/slow`, {retry: 0, timeout: {headers: 200}}));
		expect(error).toBeInstanceOf(TimeoutError);
		expect(error).toMatchObject({kind: 'timeout', phase: 'headers', timeout: 200});
		expect(performance.now() - started).toBeLessThan(5_000); // the handler would answer after 8 s
	});

	it('an error status is an HttpError with its decoded body (JSON, or text in its charset)', async () => {
		const notFound = await failure(surefetch.get(`${api}/missing`).json());
		expect(notFound).toBeInstanceOf(HttpError);
		expect(notFound).toMatchObject({status: 404, statusText: 'Not Found'});
		expect((notFound as HttpError).body).toEqual({error: 'no such user'});
		const gbk = await failure(surefetch.get(`${api}/gbk-error`, {retry: 0}).text());
		expect(gbk).toMatchObject({kind: 'http', status: 500});
		expect((gbk as HttpError).body).toBe(charsets.gbk.text);
	});

	it('a client on surefetch/node goes around MSW: the request reaches the real server', async () => {
		const id = uid('msw-around');
		server.use(http.get(at('/ok'), () => HttpResponse.json({mocked: true})));
		// The default client: intercepted, the fault server never sees it.
		expect(await surefetch.get(at(`/ok?id=${id}`)).json()).toEqual({mocked: true});
		expect((await stats(id)).hits).toBe(0);
		// The same URL through surefetch/node: undici's Agent, which setupServer does not patch.
		const transport = createNodeTransport();
		try {
			expect(await createClient({fetch: transport}).get(at(`/ok?id=${id}`)).json()).toEqual({ok: true});
		} finally {
			await transport.close();
		}
		expect((await stats(id)).hits).toBe(1);
	});
});

describe('MSW\'s HttpRequestInterceptor (msw/experimental) in front of surefetch/node', () => {
	const network = defineNetwork({
		sources: [new InterceptorSource({interceptors: [new HttpRequestInterceptor()]})],
		handlers: [
			http.get(at('/ok'), () => HttpResponse.json({mocked: true})),
			http.get(`${api}/users/1`, () => HttpResponse.json({id: 1, name: 'Ada'})),
			http.get(`${api}/down`, () => HttpResponse.error()),
		],
		context: {quiet: true},
		onUnhandledFrame: 'bypass', // the fault server's counters (`stats`)
	});
	const transport = createNodeTransport();
	const client = createClient({fetch: transport, retry: 0});
	beforeAll(() => network.enable());
	afterAll(async () => {
		await transport.close();
		await network.disable();
	});

	it('intercepts undici\'s connections too: the fault server never sees the request', async () => {
		const id = uid('msw-socket');
		expect(await client.get(at(`/ok?id=${id}`)).json()).toEqual({mocked: true});
		expect(await client.get(`${api}/users/1`).json()).toEqual({id: 1, name: 'Ada'}); // https, no such host
		expect((await stats(id)).hits).toBe(0);
		expect(await failure(client.get(`${api}/down`))).toMatchObject({kind: 'network', code: 'unknown', phase: 'headers'});
	});
});
