// Bun-only cases: where Bun's fetch behaves its own way, and surefetch with it.
import {describe, expect, it} from 'vitest';
import {createClient} from '../../../../src/index.js';
import {at, failure, fault} from '../../../support/fault.js';

describe('in Bun', () => {
	it('the reason is in `code` on the error itself (no cause chain): Node codes where one fits, its own names elsewhere', async () => {
		const api = createClient({retry: 0});
		const cases: Array<[string, string, string]> = [
			[fault.refusedUrl, 'refused', 'ECONNREFUSED'],
			['http://surefetch-bun.invalid/', 'dns', 'ENOTFOUND'],
			[`${fault.tlsUrl}/ok`, 'tls', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
			[at('/malformed-status'), 'protocol', 'Malformed_HTTP_Response'],
			[at('/redirect-loop'), 'protocol', 'TooManyRedirects'],
		];
		for (const [url, code, raw] of cases) {
			const error = await failure(api.get(url).text());
			expect(error, raw).toMatchObject({kind: 'network', code, phase: 'headers'});
			expect((error.cause as {code?: string}).code, raw).toBe(raw);
		}
		const body = await failure(api.get(at('/bad-gzip')).text());
		expect(body).toMatchObject({kind: 'network', code: 'protocol', phase: 'body'});
		expect((body.cause as {code?: string}).code).toBe('ZlibError');
	});

	it('no port is blocked: port 1 is tried, and refused', async () => {
		const error = await failure(createClient({retry: 0}).get('http://127.0.0.1:1/'));
		expect(error).toMatchObject({kind: 'network', code: 'refused', phase: 'headers'});
	});

	it('a GET with a body is refused by fetch(), not by the Request: InvalidRequestError body all the same', async () => {
		const error = await failure(createClient({retry: 0}).get(at('/echo'), {body: 'data'}));
		expect(error).toMatchObject({kind: 'invalid', reason: 'body', retryable: false});
	});

	it('an invalid method is not refused by Bun\'s Request: it becomes GET (so client.test.ts\'s "BAD METHOD" case cannot hold here until surefetch checks methods itself)', async () => {
		const request = new Request(at('/echo'), {method: 'BAD METHOD'});
		expect(request.method).toBe('GET');
		const echoed = await (await fetch(request)).json() as {method: string};
		expect(echoed.method).toBe('GET');
	});

	it('bytes after the end of a gzip body are ignored: the body decodes (Node fails it)', async () => {
		const data = await createClient({retry: 0}).get(at('/gzip-late-garbage?ms=50')).json<{data: string}>();
		expect(data.data).toHaveLength(100_000);
	});
});
