// The bundled front end: esbuild bundles test/page/app.js (which imports 'surefetch' by name),
// a loopback server serves it, and a real Chromium (Debian's, driven by playwright-core) runs it
// against the fault server. Outside vitest's browser harness, so certificates are checked for real.
import {createServer, type Server} from 'node:http';
import {existsSync} from 'node:fs';
import {gzipSync} from 'node:zlib';
import {fileURLToPath} from 'node:url';
import {build} from 'esbuild';
import {chromium, type Browser} from 'playwright-core';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {charsets} from '../fault-server/charsets.js';
import {fault} from '../support/fault.js';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let server: Server;
let origin = '';
let browser: Browser;
let bundle = '';

beforeAll(async () => {
	if (!existsSync(executablePath)) {
		throw new Error(`No Chromium at ${executablePath}: install it (\`apt-get install -y chromium\`) or set CHROMIUM_PATH.`);
	}
	const result = await build({
		entryPoints: [fileURLToPath(new URL('../page/app.js', import.meta.url))],
		bundle: true,
		format: 'esm',
		minify: true,
		platform: 'browser',
		target: 'es2022',
		write: false,
		logLevel: 'silent',
	});
	bundle = result.outputFiles[0]!.text;
	const html = '<!doctype html><meta charset="utf-8"><title>surefetch page</title><pre id="out">running…</pre><script type="module" src="/app.js"></script>';
	server = createServer((req, res) => {
		if (req.url?.startsWith('/app.js')) res.writeHead(200, {'content-type': 'text/javascript'}).end(bundle);
		else res.writeHead(200, {'content-type': 'text/html; charset=utf-8'}).end(html);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const address = server.address() as {port: number};
	origin = `http://127.0.0.1:${address.port}`;
	browser = await chromium.launch({executablePath, args: chromiumArgs, headless: true});
}, 90_000);

afterAll(async () => {
	await browser?.close();
	await new Promise((resolve) => server?.close(resolve));
});

describe('a bundled front end in Chromium', () => {
	it('the bundle is ESM for browsers: no Node built-ins, ky inside, tree-shaken', () => {
		expect(bundle).not.toMatch(/from\s*["']node:|require\(["']node:/);
		expect(bundle.length).toBeGreaterThan(1000);
		const gzip = gzipSync(bundle, {level: 9}).length;
		console.log(`page bundle: ${bundle.length} bytes minified, ${gzip} bytes gzip`);
	});

	it('makes real requests and gets the union and the right text', async () => {
		const page = await browser.newPage();
		const url = `${origin}/?fault=${encodeURIComponent(fault.url)}&tls=${encodeURIComponent(fault.tlsUrl)}`;
		await page.goto(url);
		await page.waitForSelector('body[data-done="true"]', {timeout: 60_000});
		const results = await page.evaluate(() => (window as unknown as {results: Record<string, Record<string, unknown>>}).results);
		await page.close();
		expect(results.gbkJson).toEqual({value: charsets.gbk.json});
		expect(results.shiftJisText).toEqual({value: charsets.shift_jis.text});
		expect(results.tlsSelfSigned).toMatchObject({error: true, kind: 'network', code: 'unknown', phase: 'headers'});
		expect(results.corsRefused).toMatchObject({error: true, kind: 'network', code: 'unknown', phase: 'headers'});
		expect(results.resetMidBody).toMatchObject({error: true, kind: 'network', code: 'unknown', phase: 'body'});
		expect(results.resetMidBodyCallerRead).toMatchObject({error: true, kind: 'network', code: 'unknown', phase: 'body'});
		expect(results.stalledBody).toMatchObject({error: true, kind: 'timeout', phase: 'idle', timeout: 1500});
		expect(results.http503).toMatchObject({error: true, kind: 'http', status: 503});
		expect(results.badJson).toMatchObject({error: true, kind: 'decode', reason: 'json'});
		expect(results.safe).toEqual({value: {ok: false, kind: 'http', status: 500}});
		for (const result of Object.values(results)) expect(result).not.toHaveProperty('raw');
	}, 90_000);
});
