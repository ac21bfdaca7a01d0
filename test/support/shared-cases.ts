// Cases that the browsers and the other runtimes run alike, written once (Chromium under vitest;
// Firefox, Bun, Deno and workerd under test/runtimes/run.mjs).
import {expect} from 'vitest';
import {createClient} from '../../src/index.js';
import {at, failure} from './fault.js';

/** Runs `rounds` batches of `batch` requests that all pass one long-lived `signal` (to the client and to each call); returns the most abort listeners it held at once and how many are left. */
export async function abortListenersDuring(rounds: number, batch: number): Promise<{peak: number; live: number}> {
	const signal = new AbortController().signal;
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
	for (let round = 0; round < rounds; round++) {
		await Promise.all(Array.from({length: batch}, (_, i) => api.get(at(`/json?size=64&n=${i}`), {signal}).json()));
	}
	return {peak, live};
}

/** Every body method of a Response the caller holds rejects with the union when the body dies mid-way. */
export async function expectBodyMethodsToFailInTheUnion(): Promise<void> {
	const api = createClient({retry: 0});
	for (const method of ['text', 'json', 'arrayBuffer', 'blob', 'bytes', 'formData'] as const) {
		const response = await api.get(at('/reset-mid-body?framing=cl'));
		const error = await failure((response[method] as () => Promise<unknown>).call(response));
		expect(error, method).toMatchObject({kind: 'network', code: 'unknown', phase: 'body'});
	}
}
