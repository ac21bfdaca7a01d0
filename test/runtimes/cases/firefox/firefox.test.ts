// Firefox-only cases: what Firefox hides, and the Response methods a caller uses directly.
import {describe, expect, it} from 'vitest';
import {createClient} from '../../../../src/index.js';
import {at, failure, fault} from '../../../support/fault.js';
import {expectBodyMethodsToFailInTheUnion} from '../../../support/shared-cases.js';

describe('in Firefox', () => {
	it('runs in a real Firefox', () => {
		expect(typeof window).toBe('object');
		expect(navigator.userAgent).toMatch(/Firefox\/\d+/);
	});

	it('a CORS refusal is a NetworkError "unknown" before headers, the TypeError kept as cause', async () => {
		const error = await failure(createClient({retry: 0}).get(at('/no-cors')).json());
		expect(error).toMatchObject({kind: 'network', code: 'unknown', phase: 'headers'});
		expect(error.cause).toBeInstanceOf(TypeError);
		expect((error.cause as Error).message).toBe('NetworkError when attempting to fetch resource.');
	});

	it('refused, DNS, TLS and a blocked port all read "NetworkError when attempting to fetch resource.": "unknown"', async () => {
		const api = createClient({retry: 0});
		for (const url of [fault.refusedUrl, 'http://surefetch-firefox.invalid/', `${fault.tlsUrl}/ok`, 'http://127.0.0.1:1/']) {
			const error = await failure(api.get(url));
			expect(error, url).toMatchObject({kind: 'network', code: 'unknown', phase: 'headers'});
			expect((error.cause as Error).message, url).toBe('NetworkError when attempting to fetch resource.');
		}
	});

	it('every body method of a handed Response rejects with the union when the body dies', async () => {
		await expectBodyMethodsToFailInTheUnion();
	});
});
