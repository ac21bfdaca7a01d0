// Every fault the server can make becomes the SPEC's union member, never a raw error. Runs the real
// runtime fetch. Node, Bun and Deno name the reason (`code`); browsers and workerd hide most of them
// (`unknown`). Every runtime's full table: test/runtimes/probe/<runtime>.json and the README.
import {describe, expect, it} from 'vitest';
import {createClient, isFetchError, type FetchFailure} from '../../src/index.js';
import {at, fault, runtime, type Runtime} from '../support/fault.js';

/** The runtimes that name the reason of a network failure. */
const namesCauses = runtime === 'node' || runtime === 'bun' || runtime === 'deno';

// Deadlines short enough that stalls fail fast, and far above the 20 ms after which the server
// ends a mid-body fault (a busy machine must not turn a reset into an idle timeout); no retries,
// so each row is one attempt.
const api = createClient({timeout: {total: 8000, headers: 2000, idle: 1000}, retry: 0});

async function failureOf(promise: Promise<unknown>): Promise<FetchFailure> {
	try {
		await promise;
	} catch (error) {
		expect(isFetchError(error), `not a surefetch error: ${String(error)}`).toBe(true);
		return error as FetchFailure;
	}
	throw new Error('expected the request to fail');
}

type Row = {
	name: string;
	url: () => string;
	read?: 'json' | 'text' | 'response-text';
	expected: Record<string, unknown>;
	/** The code where the runtime names the reason (Node, Bun, Deno); the others give 'unknown'. */
	nodeCode?: string;
	/** Runtimes that hide most reasons but name this one (so they give `nodeCode` too). */
	named?: Runtime[];
	/** What a runtime makes of this fault instead: its behaviour, not a fault it reports (exact, not a looser check). */
	instead?: Partial<Record<Runtime, Record<string, unknown>>>;
	/** Only where the fault can be made: vitest's browser harness (Chromium here) accepts any certificate. */
	notInVitestBrowser?: boolean;
};

const rows: Row[] = [
	{name: 'connection refused', url: () => fault.refusedUrl, expected: {kind: 'network', phase: 'headers'}, nodeCode: 'refused'},
	{name: 'reset before headers', url: () => at('/reset-before-headers'), expected: {kind: 'network', phase: 'headers'}, nodeCode: 'reset'},
	{name: 'close before headers', url: () => at('/close-before-headers'), expected: {kind: 'network', phase: 'headers'}, nodeCode: 'reset'},
	{name: 'reset mid-body (Content-Length)', url: () => at('/reset-mid-body?framing=cl'), expected: {kind: 'network', phase: 'body'}, nodeCode: 'reset'},
	{name: 'reset mid-body (chunked)', url: () => at('/reset-mid-body?framing=chunked'), expected: {kind: 'network', phase: 'body'}, nodeCode: 'reset'},
	{name: 'close mid-body (Content-Length)', url: () => at('/close-mid-body?framing=cl'), expected: {kind: 'network', phase: 'body'}, nodeCode: 'reset'},
	{name: 'close mid-body (chunked)', url: () => at('/close-mid-body?framing=chunked'), expected: {kind: 'network', phase: 'body'}, nodeCode: 'reset'},
	{name: 'reset mid-body, read by the caller', url: () => at('/reset-mid-body?framing=cl'), read: 'response-text', expected: {kind: 'network', phase: 'body'}, nodeCode: 'reset'},
	// Deno says "error reading a body from connection" for a bad chunk as for a reset; Firefox checks the
	// first chunk before it hands over the headers.
	{name: 'bad chunk size', url: () => at('/bad-chunk'), expected: {kind: 'network', phase: 'body'}, nodeCode: 'protocol', instead: {deno: {kind: 'network', phase: 'body', code: 'reset'}, firefox: {kind: 'network', phase: 'headers', code: 'unknown'}}},
	{name: 'bad gzip', url: () => at('/bad-gzip'), expected: {kind: 'network', phase: 'body'}, nodeCode: 'protocol', named: ['workerd']},
	// Chromium reads "HTTP/1.1 abc Nope" as a 200 (HTTP/0.9-style leniency): the JSON reader then fails.
	{name: 'malformed status line', url: () => at('/malformed-status'), expected: {kind: 'network', phase: 'headers'}, nodeCode: 'protocol', instead: {chromium: {kind: 'decode', reason: 'json'}}},
	{name: 'redirect loop', url: () => at('/redirect-loop'), expected: {kind: 'network', phase: 'headers'}, nodeCode: 'protocol', named: ['workerd']},
	// In Chromium this row runs in test/node/page.test.ts, outside vitest's harness (which ignores certificate errors).
	{name: 'TLS with a self-signed certificate', url: () => `${fault.tlsUrl}/ok`, expected: {kind: 'network', phase: 'headers'}, nodeCode: 'tls', notInVitestBrowser: true},
	{name: 'reset mid-headers', url: () => at('/reset-mid-headers'), expected: {kind: 'network', phase: 'headers'}, nodeCode: 'reset'},
	// Chromium and Firefox take a head cut short by a clean close as a complete (empty) response: the JSON reader then fails.
	{name: 'close mid-headers', url: () => at('/close-mid-headers'), expected: {kind: 'network', phase: 'headers'}, nodeCode: 'reset', instead: {chromium: {kind: 'decode', reason: 'json'}, firefox: {kind: 'decode', reason: 'json'}}},
	{name: 'stall mid-headers', url: () => at('/stall-mid-headers'), expected: {kind: 'timeout', phase: 'headers', timeout: 2000}},
	{name: 'reset mid-body, split over time', url: () => at('/reset-mid-body?framing=chunked&shape=split'), expected: {kind: 'network', phase: 'body'}, nodeCode: 'reset'},
	{name: 'close mid-body, split over time', url: () => at('/close-mid-body?framing=cl&shape=split'), expected: {kind: 'network', phase: 'body'}, nodeCode: 'reset'},
	{name: 'stall mid-body, split over time, read by the caller', url: () => at('/stall-mid-body?framing=cl&shape=split'), read: 'response-text', expected: {kind: 'timeout', phase: 'idle', timeout: 1000}},
	{name: 'stall before headers', url: () => at('/stall-before-headers'), expected: {kind: 'timeout', phase: 'headers', timeout: 2000}},
	{name: 'stall mid-body', url: () => at('/stall-mid-body?framing=cl'), expected: {kind: 'timeout', phase: 'idle', timeout: 1000}},
	{name: 'stall mid-body (chunked), read by the caller', url: () => at('/stall-mid-body?framing=chunked'), read: 'response-text', expected: {kind: 'timeout', phase: 'idle', timeout: 1000}},
	// The first chunk at once (Firefox hands over the headers only with the first chunk), then 2 s gaps.
	{name: 'trickle slower than the idle deadline', url: () => at('/trickle?first=0&every=2000&chunks=3&size=10'), read: 'text', expected: {kind: 'timeout', phase: 'idle'}},
	{name: '503 with Retry-After', url: () => at('/503?retryAfter=1'), expected: {kind: 'http', status: 503}},
	{name: '429 with Retry-After', url: () => at('/429?retryAfter=1'), expected: {kind: 'http', status: 429}},
	{name: 'HTML served as JSON', url: () => at('/html-as-json'), expected: {kind: 'decode', reason: 'json'}},
	{name: 'truncated JSON', url: () => at('/bad-json'), expected: {kind: 'decode', reason: 'json'}},
	{name: 'empty 200 body', url: () => at('/empty?status=200'), expected: {kind: 'decode', reason: 'json', snippet: ''}},
	{name: 'empty chunked body', url: () => at('/empty-chunked'), expected: {kind: 'decode', reason: 'json'}},
	{name: 'body over maxBodyBytes (Content-Length)', url: () => at('/too-large?n=200000&cl=1'), expected: {kind: 'decode', reason: 'too-large'}},
	{name: 'body over maxBodyBytes (chunked)', url: () => at('/too-large?n=200000&cl=0'), expected: {kind: 'decode', reason: 'too-large'}},
	{name: 'invalid UTF-8 in JSON', url: () => at('/charset/invalid-utf-8?as=json'), expected: {kind: 'decode', reason: 'charset'}},
	{name: 'unknown charset label', url: () => at('/charset/wrong-label?as=json'), expected: {kind: 'decode', reason: 'charset', charset: 'x-klingon'}},
];

describe('classification: every fault is one member of the union', () => {
	for (const row of rows) {
		if (row.notInVitestBrowser && runtime === 'chromium') continue;
		it(row.name, async () => {
			const options = {maxBodyBytes: 100_000};
			const call = api.get(row.url(), options);
			const promise = row.read === 'response-text'
				? call.then((response) => response.text())
				: row.read === 'text' ? call.text() : call.json();
			const failure = await failureOf(promise);
			const instead = row.instead?.[runtime];
			if (instead) {
				expect(failure).toMatchObject(instead);
				return;
			}
			expect(failure).toMatchObject(row.expected);
			if (row.nodeCode) expect((failure as {code?: string}).code).toBe(namesCauses || row.named?.includes(runtime) ? row.nodeCode : 'unknown');
			expect(failure.request.method).toBe('GET');
			expect(failure.message).not.toMatch(/[\r\n]/);
			expect(failure.attempts).toBe(1);
		});
	}

	it('a 204 and a HEAD give undefined from .json()', async () => {
		await expect(api.get(at('/empty?status=204')).json()).resolves.toBeUndefined();
		await expect(api.get(at('/empty?status=205')).json()).resolves.toBeUndefined();
		await expect(api.head(at('/ok')).json()).resolves.toBeUndefined();
	});

	it('a decode failure carries the snippet and the content type', async () => {
		const failure = await failureOf(api.get(at('/html-as-json')).json());
		expect(failure).toMatchObject({kind: 'decode', reason: 'json', contentType: expect.stringContaining('application/json')});
		expect((failure as {snippet: string}).snippet).toMatch(/^<!doctype html>/i);
		expect((failure as {snippet: string}).snippet.length).toBeLessThanOrEqual(200);
	});

	it('decode.json strict refuses a non-JSON media type before parsing', async () => {
		const failure = await failureOf(api.get(at('/html'), {decode: {json: 'strict'}}).json());
		expect(failure).toMatchObject({kind: 'decode', reason: 'content-type', contentType: expect.stringContaining('text/html')});
		await expect(api.get(at('/ok'), {decode: {json: 'strict'}}).json()).resolves.toEqual({ok: true});
	});
});
