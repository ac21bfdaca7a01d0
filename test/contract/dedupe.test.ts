// dedupe(): identical concurrent GET/HEAD calls share one request, as the server counts them.
import {describe, expect, it} from 'vitest';
import {createClient, dedupe, limit} from '../../src/index.js';
import {at, sleep, stats, uid} from '../support/fault.js';

describe('dedupe', () => {
	it('concurrent identical GETs are one request; each caller gets its own Response and its own result', async () => {
		const api = createClient({retry: 0, use: [dedupe()]});
		const id = uid('dd');
		const url = at(`/delay?ms=150&id=${id}`);
		const [a, b, c] = await Promise.all([api.get(url).json(), api.get(url).json(), api.get(url).json()]);
		expect(a).toEqual({ok: true, delayed: 150});
		expect([b, c]).toEqual([a, a]);
		expect(b).not.toBe(a); // parsed once per caller
		expect((await stats(id)).hits).toBe(1);
		// Responses the callers read themselves: each its own body.
		const raw = uid('dd-raw');
		const responses = await Promise.all([api.get(at(`/delay?ms=150&id=${raw}`)), api.get(at(`/delay?ms=150&id=${raw}`))]);
		expect(responses[0]).not.toBe(responses[1]);
		expect(await Promise.all(responses.map((r) => r.json()))).toEqual([{ok: true, delayed: 150}, {ok: true, delayed: 150}]);
		expect((await stats(raw)).hits).toBe(1);
		// A reader sets its Accept header: a .json() and a .text() call are not the same request.
		const mixed = uid('dd-mixed');
		await Promise.all([api.get(at(`/delay?ms=100&id=${mixed}`)).json(), api.get(at(`/delay?ms=100&id=${mixed}`)).text()]);
		expect((await stats(mixed)).hits).toBe(2);
	});

	it('other headers, another URL, a POST: not shared; after the headers a new call is a new request', async () => {
		const api = createClient({retry: 0, use: [dedupe()]});
		const id = uid('dd2');
		const url = at(`/delay?ms=100&id=${id}`);
		await Promise.all([api.get(url).json(), api.get(url, {headers: {'x-other': '1'}}).json(), api.get(`${url}&x=1`).json()]);
		expect((await stats(id)).hits).toBe(3);
		const post = uid('dd-post');
		await Promise.all([api.post(at(`/echo?id=${post}`)).json(), api.post(at(`/echo?id=${post}`)).json()]);
		expect((await stats(post)).hits).toBe(2);
		const seq = uid('dd-seq');
		await api.get(at(`/ok?id=${seq}`)).json();
		await api.get(at(`/ok?id=${seq}`)).json();
		expect((await stats(seq)).hits).toBe(2);
		const head = uid('dd-head');
		const heads = await Promise.all([api.head(at(`/delay?ms=100&id=${head}`)), api.head(at(`/delay?ms=100&id=${head}`))]);
		expect(heads.map((r) => r.status)).toEqual([200, 200]);
		expect((await stats(head)).hits).toBe(1);
	});

	it('one caller\'s abort or deadline settles that caller alone', async () => {
		const api = createClient({retry: 0, use: [dedupe()]});
		const id = uid('dd-abort');
		const url = at(`/delay?ms=400&id=${id}`);
		const controller = new AbortController();
		const leaving = api.get(url, {signal: controller.signal}).json().catch((e: unknown) => e);
		const hurried = api.get(url, {timeout: 150}).json().catch((e: unknown) => e);
		const patient = api.get(url).json();
		await sleep(50);
		controller.abort('not anymore');
		expect(await leaving).toMatchObject({kind: 'aborted', reason: 'not anymore'});
		expect(await hurried).toMatchObject({kind: 'timeout', phase: 'total'});
		expect(await patient).toEqual({ok: true, delayed: 400});
		expect((await stats(id)).hits).toBe(1);
	});

	it('the shared request is aborted when the last caller leaves', async () => {
		const api = createClient({retry: 0, use: [dedupe()]});
		const group = uid('dd-last');
		const url = at(`/stall-before-headers?group=${group}`);
		const controllers = [new AbortController(), new AbortController()];
		const calls = controllers.map((c) => api.get(url, {signal: c.signal}).catch((e: unknown) => e));
		await sleep(100);
		expect((await stats(undefined, group)).groupInFlight).toBe(1);
		controllers[0]!.abort();
		await sleep(100);
		expect((await stats(undefined, group)).groupInFlight).toBe(1); // one caller is still there
		controllers[1]!.abort();
		await Promise.all(calls);
		for (let i = 0; i < 40 && (await stats(undefined, group)).groupInFlight > 0; i++) await sleep(50);
		expect((await stats(undefined, group)).groupInFlight).toBe(0);
	});

	it('a shared failure reaches every caller; a body read by one and streamed by another arrives whole to both', async () => {
		const api = createClient({retry: 0, use: [dedupe()]});
		const id = uid('dd-fail');
		const failures = await Promise.all([api.get(at(`/status/503?id=${id}`)).catch((e: unknown) => e), api.get(at(`/status/503?id=${id}`)).catch((e: unknown) => e)]);
		expect(failures).toMatchObject([{kind: 'http', status: 503}, {kind: 'http', status: 503}]);
		expect((await stats(id)).hits).toBe(1);
		const big = uid('dd-big');
		const url = at(`/bytes?n=${3 * 1024 * 1024}&id=${big}`);
		const [bytes, response] = await Promise.all([api.get(url).bytes(), api.get(url, {headers: {accept: '*/*'}})]);
		const streamed = new Uint8Array(await response.arrayBuffer());
		expect(bytes.byteLength).toBe(3 * 1024 * 1024);
		expect(streamed.byteLength).toBe(3 * 1024 * 1024);
		expect(streamed[70_000]).toBe(bytes[70_000]);
		expect((await stats(big)).hits).toBe(1);
	});

	it('a deduped call takes no limit slot of its own', async () => {
		const group = uid('dd-limit');
		const api = createClient({retry: 0, use: [limit({concurrency: 1}), dedupe()], timeout: {queue: 100}});
		const url = at(`/delay?ms=300&group=${group}`);
		const results = await Promise.all([api.get(url).json(), api.get(url).json(), api.get(url).json()]);
		expect(results).toHaveLength(3);
		expect((await stats(undefined, group)).groupMaxInFlight).toBe(1);
	});
});
