// The clients under test. Each is loaded on its own (a client process imports only the one it
// measures) and offers three operations, written the way a user of that library would write them:
//   json(url)      the parsed body (each library's own JSON reader)
//   bytes(url)     the body as bytes
//   close()        releases pools, if the library has one
// `surefetch*` import the built package (dist/, or the run's snapshot of it), so `npm run build`
// must have run.

import {pathToFileURL} from 'node:url';

/** The build to import: run.mjs passes its snapshot of dist/ (see harness.mjs). */
const distOf = (options) => (options.dist ? pathToFileURL(`${options.dist}/`) : new URL('../../dist/', import.meta.url));

/** Display order; `fetch` and `ky` are the baselines of the ratios. */
export const CLIENTS = ['fetch', 'ky', 'surefetch', 'surefetch-full', 'surefetch-node', 'ofetch', 'axios', 'got', 'undici'];

/** One-line description of each client, for the report. */
export const DESCRIPTIONS = {
	fetch: 'global `fetch` (Node\'s bundled undici): `(await fetch(url)).json()` / `.bytes()`',
	ky: 'ky 2.1.0 defaults: `ky.get(url).json()` / `.bytes()`',
	surefetch: 'surefetch (dist/) `createClient()` defaults: `api.get(url).json()` / `.bytes()`',
	'surefetch-full': 'surefetch with `use: [limit({concurrency 256, perHost 128, rate 100000/s}), breaker()]` and all five `on` listeners (none of them binding)',
	'surefetch-node': 'surefetch defaults over `createNodeTransport()` (surefetch/node: npm undici 7 Agent, dispatched directly)',
	ofetch: 'ofetch defaults: `ofetch(url)` / `{responseType: \'arrayBuffer\'}`',
	axios: 'axios defaults (Node http adapter): `axios.get(url)` / `{responseType: \'arraybuffer\'}`',
	got: 'got defaults: `got(url).json()` / `.buffer()`',
	undici: 'npm undici 7 `request(url)` + `body.json()` / `.bytes()`: the upper limit (no WHATWG Response)',
};

function check(response) {
	if (!response.ok) throw new Error(`HTTP ${response.status}`);
	return response;
}

/** The correct way to read a GBK JSON body with raw fetch (and with undici): decode, then parse. */
const gbkJson = (buffer) => JSON.parse(new TextDecoder('gbk').decode(buffer));

/**
 * Returns {json, gbkJson, bytes, close}. `gbkJson` is what a user of that library gets for a
 * `charset=gbk` JSON body: the library's own `.json()`, except for the raw baselines (fetch,
 * undici), which decode by hand as described in the README. `options.maxBodyBytes` is passed to
 * surefetch (the 200 MiB case needs `false`: the default cap is 64 MiB); `options.dist` is the
 * directory of the build to import.
 */
export async function loadClient(name, options = {}) {
	switch (name) {
		case 'fetch':
		case 'fetch-arrayBuffer':
			return {
				json: async (url) => check(await fetch(url)).json(),
				gbkJson: async (url) => gbkJson(await check(await fetch(url)).arrayBuffer()),
				bytes: name === 'fetch'
					? async (url) => check(await fetch(url)).bytes()
					: async (url) => new Uint8Array(await check(await fetch(url)).arrayBuffer()),
				close: async () => {},
			};
		case 'ky': {
			const {default: ky} = await import('ky');
			return {
				json: (url) => ky.get(url).json(),
				gbkJson: (url) => ky.get(url).json(),
				bytes: (url) => ky.get(url).bytes(),
				close: async () => {},
			};
		}
		case 'surefetch':
		case 'surefetch-full':
		case 'surefetch-node': {
			const dist = distOf(options);
			// Node resolves the package's `node` build: dist/node/.
			const {createClient, limit, breaker} = await import(new URL('node/index.js', dist).href);
			const clientOptions = {};
			if (options.maxBodyBytes !== undefined) clientOptions.maxBodyBytes = options.maxBodyBytes;
			let transport;
			if (name === 'surefetch-full') {
				const events = {request: 0, response: 0, retry: 0, error: 0, breaker: 0};
				Object.assign(clientOptions, {
					use: [limit({concurrency: 256, perHost: 128, rate: {requests: 100_000, per: 1_000}}), breaker()],
					on: {
						request: () => void events.request++,
						response: () => void events.response++,
						retry: () => void events.retry++,
						error: () => void events.error++,
						breaker: () => void events.breaker++,
					},
				});
			}
			if (name === 'surefetch-node') {
				const {createNodeTransport} = await import(new URL('node/node.js', dist).href);
				transport = createNodeTransport();
				clientOptions.fetch = transport;
			}
			const api = createClient(clientOptions);
			return {
				json: (url) => api.get(url).json(),
				gbkJson: (url) => api.get(url).json(),
				bytes: (url) => api.get(url).bytes(),
				close: async () => {
					await api.close();
					await transport?.close();
				},
			};
		}
		case 'ofetch': {
			const {ofetch} = await import('ofetch');
			return {
				json: (url) => ofetch(url),
				gbkJson: (url) => ofetch(url),
				bytes: async (url) => new Uint8Array(await ofetch(url, {responseType: 'arrayBuffer'})),
				close: async () => {},
			};
		}
		case 'axios': {
			const {default: axios} = await import('axios');
			return {
				json: async (url) => (await axios.get(url)).data,
				gbkJson: async (url) => (await axios.get(url)).data,
				bytes: async (url) => (await axios.get(url, {responseType: 'arraybuffer'})).data,
				close: async () => {},
			};
		}
		case 'got': {
			const {default: got} = await import('got');
			return {
				json: (url) => got(url).json(),
				gbkJson: (url) => got(url).json(),
				bytes: (url) => got(url).buffer(),
				close: async () => {},
			};
		}
		case 'undici': {
			const {request} = await import('undici');
			const open = async (url) => {
				const {statusCode, body} = await request(url);
				if (statusCode !== 200) {
					await body.dump();
					throw new Error(`HTTP ${statusCode}`);
				}
				return body;
			};
			return {
				json: async (url) => (await open(url)).json(),
				gbkJson: async (url) => gbkJson(await (await open(url)).arrayBuffer()),
				bytes: async (url) => (await open(url)).bytes(),
				close: async () => {},
			};
		}
		default:
			throw new Error(`unknown client ${name}`);
	}
}
