// Memory of a big read: `.bytes()` of a body with a Content-Length is copied into one buffer of
// that size as it arrives, so the process grows by about the body once, not chunks plus a joined copy.
import {createServer} from 'node:net';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {createClient} from '../../src/index.js';
import {at} from '../support/fault.js';
import {runNodeChild} from '../support/child.js';

const MiB = 1024 * 1024;
const dist = fileURLToPath(new URL('../../dist/node/index.js', import.meta.url));

async function growthOf(path: string, size: number): Promise<{growth: number; ok: boolean}> {
	const {code, stdout, stderr} = await runNodeChild(`
		import {createClient} from ${JSON.stringify(dist)};
		const api = createClient({retry: 0, maxBodyBytes: false});
		await api.get(${JSON.stringify(at('/ok'))}).json(); // warm up before the baseline
		globalThis.gc?.();
		const before = process.memoryUsage().rss;
		const bytes = await api.get(${JSON.stringify(at(path))}).bytes();
		const growth = process.resourceUsage().maxRSS * 1024 - before;
		let ok = bytes.byteLength === ${size};
		for (let i = 0; ok && i < bytes.byteLength; i += 4099) ok = bytes[i] === i % 256;
		console.log(JSON.stringify({growth, ok}));
	`, {flags: ['--expose-gc'], limitMs: 110_000});
	if (code !== 0) throw new Error(`child exited ${code}: ${stderr}`);
	return JSON.parse(stdout) as {growth: number; ok: boolean};
}

describe('memory', () => {
	it('.bytes() of a 256 MiB body with Content-Length grows the process by about the body once, not twice', async () => {
		const size = 256 * MiB;
		const {growth, ok} = await growthOf(`/bytes?n=${size}`, size);
		console.log(`growth ${(growth / size).toFixed(2)}x of ${size / MiB} MiB`);
		expect(ok).toBe(true);
		// Chunks plus their concatenation is >= 2x (~512 MiB). Above 1x is what the runtime still holds:
		// chunks the GC has not collected yet (measured 1.12x Node 20, 1.19x Node 22, 1.40x Node 24).
		expect(growth / size).toBeLessThan(1.6);
	}, 120_000);

	it('a Content-Length too large to allocate falls back to chunks: the failure is the server\'s, not an allocation error', async () => {
		// Declares 2^53-1 bytes, sends 1,000, closes: no buffer of the declared size can exist.
		const server = createServer((socket) => socket.once('data', () => {
			socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${Number.MAX_SAFE_INTEGER}\r\n\r\n${'x'.repeat(1000)}`);
			setTimeout(() => socket.destroy(), 50);
		}));
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		try {
			const api = createClient({retry: 0, maxBodyBytes: false});
			const error = await api.get(`http://127.0.0.1:${(server.address() as {port: number}).port}/`).bytes().catch((e: unknown) => e);
			expect(error).toMatchObject({kind: 'network', code: 'reset', phase: 'body'});
		} finally {
			await new Promise((resolve) => server.close(resolve));
		}
	});
});
