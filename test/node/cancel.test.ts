// Every body that is not handed to the caller is cancelled: the server sees its response end
// (the socket is released) instead of a transfer that hangs on back-pressure. This file runs its own
// fault server so that the in-flight count is only this file's traffic.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createClient, isFetchError} from '../../src/index.js';
import {startFaultServer, type FaultServer} from '../fault-server/server.js';

let server: FaultServer;
beforeAll(async () => {
	server = await startFaultServer({host: '127.0.0.1'});
});
afterAll(async () => {
	await server.close();
});

/** The server's requests end (polled for up to 10 s: at once when the body was cancelled). */
async function settlesToZeroInFlight(): Promise<void> {
	const deadline = performance.now() + 10_000;
	while (server.inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
	expect(server.inFlight).toBe(0);
}

const big = 32 * 1024 * 1024; // far more than the socket buffers: only a cancel ends it early

describe('bodies not handed on are cancelled', () => {
	const api = () => createClient({baseUrl: server.url, retry: 0, maxBodyBytes: 64 * 1024});

	it('a body over maxBodyBytes (declared by Content-Length)', async () => {
		const error = await api().get(`bytes?n=${big}`).bytes().catch((e: unknown) => e);
		expect(error).toMatchObject({kind: 'decode', reason: 'too-large'});
		await settlesToZeroInFlight();
	});

	it('a body over maxBodyBytes (chunked, found while reading)', async () => {
		const error = await api().get(`big?n=${big}&cl=0`).text().catch((e: unknown) => e);
		expect(error).toMatchObject({kind: 'decode', reason: 'too-large'});
		await settlesToZeroInFlight();
	});

	it('a body refused by decode.json strict', async () => {
		const error = await api().get(`bytes?n=${big}`, {decode: {json: 'strict'}}).json().catch((e: unknown) => e);
		expect(error).toMatchObject({kind: 'decode', reason: 'content-type'});
		await settlesToZeroInFlight();
	});

	it('an error body over maxBodyBytes, and the bodies of retried attempts', async () => {
		const client = createClient({baseUrl: server.url, retry: {limit: 2, delay: () => 10}, maxBodyBytes: 16});
		const error = await client.get(`charset/gbk?as=json&status=503`).json().catch((e: unknown) => e);
		expect(error).toMatchObject({kind: 'http', status: 503, attempts: 3, body: undefined});
		await settlesToZeroInFlight();
	});

	it('a Response body never read is released by close()', async () => {
		const client = api();
		const response = await client.get(`bytes?n=${big}`);
		expect(response.status).toBe(200);
		await client.close();
		await settlesToZeroInFlight();
		const error = await response.arrayBuffer().catch((e: unknown) => e);
		expect(isFetchError(error)).toBe(true);
	});

	it('a Response body never read is released at the total deadline', async () => {
		// idle = total: the idle deadline starts later (at the headers), so the total one ends it.
		const client = createClient({baseUrl: server.url, retry: 0, timeout: {total: 1500, idle: 1500}});
		const response = await client.get(`bytes?n=${big}`);
		expect(response.status).toBe(200);
		await new Promise((r) => setTimeout(r, 1600));
		await settlesToZeroInFlight();
		const error = await response.arrayBuffer().catch((e: unknown) => e);
		expect(error).toMatchObject({kind: 'timeout', phase: 'total'});
	});
});
