// Deno-only cases: where Deno's fetch behaves its own way, and surefetch with it.
import {describe, expect, it} from 'vitest';
import {createClient} from '../../../../src/index.js';
import {at, failure, fault} from '../../../support/fault.js';

describe('in Deno', () => {
	it('statusText is the canonical reason phrase of the code, not the server\'s: "" for 999, "OK" for "200 Fine"', async () => {
		// hyper keeps no reason phrase: Deno fills in the standard one (hostile.test.ts's 999 case).
		const api = createClient({retry: 0});
		const odd = await api.get(at('/status-line?code=999&text=Weird'), {throwHttpErrors: false});
		expect([odd.status, odd.statusText, odd.ok]).toEqual([999, '', false]);
		expect(await odd.json()).toEqual({status: 999});
		const fine = await api.get(at('/status-line?code=200&text=Fine'));
		expect(fine.statusText).toBe('OK');
		const error = await failure(api.get(at('/status-line?code=999&text=Weird')).json());
		expect(error).toMatchObject({kind: 'http', status: 999, statusText: ''});
	});

	it('a bad chunk size reads as a reset: Deno says "error reading a body from connection" for both', async () => {
		const api = createClient({retry: 0});
		for (const path of ['/bad-chunk', '/reset-mid-body?framing=chunked']) {
			const error = await failure(api.get(at(path)).text());
			expect(error, path).toMatchObject({kind: 'network', code: 'reset', phase: 'body'});
			expect((error.cause as Error).message, path).toBe('error reading a body from connection');
		}
	});

	it('blocked ports are refused before any traffic: InvalidRequestError url, from "Requests to port N are blocked"', async () => {
		const error = await failure(createClient({retry: 0}).get('http://127.0.0.1:1/'));
		expect(error).toMatchObject({kind: 'invalid', reason: 'url', attempts: 1});
		expect((error.cause as Error).message).toBe('Fetch failed: Requests to port 1 are blocked');
	});

	it('the failure behind "fetch failed" is in the message of its cause: refused, DNS and TLS are named', async () => {
		const api = createClient({retry: 0});
		const cases: Array<[string, string, RegExp]> = [
			[fault.refusedUrl, 'refused', /Connection refused \(os error 111\)/],
			['http://surefetch-deno.invalid/', 'dns', /dns error/],
			[`${fault.tlsUrl}/ok`, 'tls', /invalid peer certificate/],
		];
		for (const [url, code, said] of cases) {
			const error = await failure(api.get(url));
			expect(error, code).toMatchObject({kind: 'network', code, phase: 'headers'});
			expect(((error.cause as Error).cause as Error).message, code).toMatch(said);
		}
	});
});
