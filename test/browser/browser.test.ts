// Browser-only cases, run in Chromium: what a browser hides (CORS, the opaque TypeError), the
// Response methods a caller uses directly, and listeners on a long-lived signal.
import {describe, expect, it} from 'vitest';
import {createClient} from '../../src/index.js';
import {at, fault, failure} from '../support/fault.js';


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
		const api = createClient({retry: 0});
		for (const method of ['text', 'json', 'arrayBuffer', 'blob', 'bytes', 'formData'] as const) {
			const response = await api.get(at('/reset-mid-body?framing=cl'));
			const error = await failure((response[method] as () => Promise<unknown>).call(response));
			expect(error, method).toMatchObject({kind: 'network', code: 'unknown', phase: 'body'});
		}
	});

	it('a long-lived signal holds at most one listener while requests run, none after', async () => {
		const lifetime = new AbortController();
		const signal = lifetime.signal;
		let live = 0;
		let peak = 0;
		const add = signal.addEventListener.bind(signal);
		const remove = signal.removeEventListener.bind(signal);
		signal.addEventListener = ((type: string, listener: EventListener, options?: AddEventListenerOptions) => {
			if (type === 'abort') peak = Math.max(peak, ++live);
			add(type, listener, options);
		}) as typeof signal.addEventListener;
		signal.removeEventListener = ((type: string, listener: EventListener, options?: EventListenerOptions) => {
			if (type === 'abort') live--;
			remove(type, listener, options);
		}) as typeof signal.removeEventListener;
		const api = createClient({signal, retry: 0});
		for (let round = 0; round < 5; round++) {
			await Promise.all(Array.from({length: 40}, (_, i) => api.get(at(`/json?size=64&n=${i}`), {signal}).json()));
		}
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
