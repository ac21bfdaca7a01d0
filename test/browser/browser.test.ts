// Browser-only cases, run in Chromium: what a browser hides (CORS, the opaque TypeError), the
// Response methods a caller uses directly, and listeners on a long-lived signal.
import {describe, expect, it} from 'vitest';
import {createClient} from '../../src/index.js';
import {at, fault, failure} from '../support/fault.js';
import {abortListenersDuring, expectBodyMethodsToFailInTheUnion} from '../support/shared-cases.js';


describe('in a browser', () => {
	it('runs in a real browser', () => {
		expect(typeof window).toBe('object');
		expect(navigator.userAgent).toMatch(/Chrome/);
	});

	it('a CORS refusal is a NetworkError "unknown" before headers, the TypeError kept as cause', async () => {
		const api = createClient({retry: 0});
		const error = await failure(api.get(at('/no-cors')).json());
		expect(error).toMatchObject({kind: 'network', code: 'unknown', phase: 'headers'});
		expect(error.cause).toBeInstanceOf(TypeError);
		expect((error.cause as Error).message).toBe('Failed to fetch');
	});

	it('a refused connection is indistinguishable from CORS here: "unknown", never a raw TypeError', async () => {
		const error = await failure(createClient({retry: 0}).get(fault.refusedUrl));
		expect(error).toMatchObject({kind: 'network', code: 'unknown', phase: 'headers'});
	});

	it('every body method of a handed Response rejects with the union when the body dies', async () => {
		await expectBodyMethodsToFailInTheUnion();
	});

	it('a long-lived signal holds at most one listener while requests run, none after', async () => {
		const {peak, live} = await abortListenersDuring(5, 40);
		expect(peak).toBe(1);
		expect(live).toBe(0);
	});

	it('close() settles everything in flight, in a browser too', async () => {
		const api = createClient({retry: 0});
		const pending = [api.get(at('/stall-before-headers')).json(), api.get(at('/stall-mid-body?framing=chunked')).text()];
		await new Promise((r) => setTimeout(r, 100));
		await api.close('bye');
		const errors = await Promise.all(pending.map(failure));
		for (const error of errors) expect(error).toMatchObject({kind: 'aborted', source: 'client', reason: 'bye'});
	});
});
