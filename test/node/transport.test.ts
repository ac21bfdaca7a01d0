// `surefetch/node`: the transport on npm undici's Agent. Pool settings, TLS options, and the
// connect phase that only a transport seeing the connection can time.
import {createServer, type Server} from 'node:net';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createClient} from '../../src/index.js';
import {createNodeTransport} from '../../src/node/index.js';
import {TLS_CERT} from '../fault-server/server.js';
import {charsets} from '../fault-server/charsets.js';
import {at, failure, fault, stats, uid} from '../support/fault.js';

// A TCP server that accepts and then says nothing: a TLS handshake to it never completes.
let silent: Server;
let silentUrl = '';
const sockets = new Set<import('node:net').Socket>();
beforeAll(async () => {
	silent = createServer((socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
	silentUrl = `https://127.0.0.1:${(silent.address() as {port: number}).port}/`;
});
afterAll(async () => {
	for (const socket of sockets) socket.destroy();
	await new Promise((resolve) => silent.close(resolve));
});

describe('surefetch/node', () => {
	it('decodes and classifies like the global fetch', async () => {
		const transport = createNodeTransport();
		const api = createClient({fetch: transport, retry: 0});
		expect(await api.get(at('/charset/gbk?as=json')).json()).toEqual(charsets.gbk.json);
		expect(await failure(api.get(fault.refusedUrl))).toMatchObject({kind: 'network', code: 'refused', phase: 'headers'});
		expect(await failure(api.get(at('/reset-mid-body?framing=cl')).json())).toMatchObject({kind: 'network', code: 'reset', phase: 'body'});
		expect(await failure(api.get(at('/bad-chunk')).text())).toMatchObject({kind: 'network', code: 'protocol', phase: 'body'});
		expect(await failure(api.get(`${fault.tlsUrl}/ok`))).toMatchObject({kind: 'network', code: 'tls'});
		await transport.close();
	});

	it('takes TLS options: the self-signed server is trusted with its certificate as `ca`', async () => {
		const transport = createNodeTransport({tls: {ca: TLS_CERT}});
		expect(await createClient({fetch: transport}).get(`${fault.tlsUrl}/ok`).json()).toEqual({ok: true});
		await transport.close();
	});

	it('timeout.connect: a TLS handshake that never completes is a TimeoutError of phase connect', async () => {
		const transport = createNodeTransport();
		const api = createClient({fetch: transport, retry: 0, timeout: {connect: 200, headers: 5000}});
		const started = performance.now();
		const error = await failure(api.get(silentUrl));
		expect(error).toMatchObject({kind: 'timeout', phase: 'connect', timeout: 200, retryable: true});
		expect(performance.now() - started).toBeLessThan(200 + 1500);
		await transport.close();
	});

	it('timeout.connect is refused without this transport, accepted with it', () => {
		expect(() => createClient({timeout: {connect: 100}})).toThrow(/surefetch\/node/);
		expect(() => createClient({fetch: createNodeTransport(), timeout: {connect: 100}})).not.toThrow();
		expect(() => createNodeTransport({connections: 0})).toThrow(RangeError);
	});

	it('connections caps the pool: the server never sees more at once', async () => {
		const transport = createNodeTransport({connections: 2});
		const api = createClient({fetch: transport, retry: 0});
		const group = uid('pool');
		await Promise.all(Array.from({length: 8}, (_, i) => api.get(at(`/delay?ms=50&n=${i}&group=${group}`)).json()));
		expect((await stats(undefined, group)).groupMaxInFlight).toBe(2);
		await transport.close();
	});
});
