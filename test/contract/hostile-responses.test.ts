// Responses no HTTP library would write, whole and split into 7-byte pieces: every one ends as a
// Response or a member of the union, never a raw error, never a hang.
import {describe, expect, it} from 'vitest';
import {createClient, isFetchError} from '../../src/index.js';
import {at, isNode} from '../support/fault.js';

const names = ['bad-content-length', 'two-lengths', 'te-and-cl', 'header-nul', 'huge-header', 'many-100', 'redirect-file', 'redirect-javascript', 'status-199', 'status-600', 'status-204-with-body', 'not-http', 'partial-status-line', 'gzip-header-only', 'bom-against-header'];

describe('hostile responses', () => {
	const api = createClient({retry: 0, timeout: 5000});
	for (const split of ['', '?split=1']) {
		it(`nothing raw, nothing hangs${split ? ' (sent in pieces)' : ''}`, async () => {
			const results = await Promise.all(names.map(async (name) => {
				const outcome = await api.get(at(`/raw/${name}${split}`)).text().then((text) => ({ok: text}), (error: unknown) => ({error}));
				if ('error' in outcome) expect(isFetchError(outcome.error), `${name}: ${String(outcome.error)}`).toBe(true);
				return [name, 'error' in outcome ? (outcome.error as {kind: string}).kind : 'ok'] as const;
			}));
			const kinds = Object.fromEntries(results);
			// What every runtime agrees on.
			expect(kinds['status-600']).toBe('http');
			expect(kinds['bom-against-header']).toBe('ok');
			expect(kinds['not-http']).toBe('network');
			if (isNode) {
				// Node's parser names these exactly.
				expect(kinds).toMatchObject({'bad-content-length': 'network', 'huge-header': 'network', 'redirect-file': 'network', 'redirect-javascript': 'network'});
			}
		});
	}

	it('a byte-order mark outranks the header\'s charset', async () => {
		expect(await api.get(at('/raw/bom-against-header')).json()).toEqual({a: 1});
	});

	it('a redirect to another scheme is the server breaking the protocol, not an invalid request', async () => {
		const error = await api.get(at('/raw/redirect-file')).catch((e: unknown) => e);
		expect(error).toMatchObject({kind: 'network', phase: 'headers'});
		if (isNode) expect(error).toMatchObject({code: 'protocol'});
	});
});
