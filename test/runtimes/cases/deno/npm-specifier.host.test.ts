// `import surefetch from 'npm:surefetch'` in Deno, against the packed package: a registry on
// 127.0.0.1 serves the tarballs `npm pack` makes (surefetch, ky, abort-controller-x), Deno installs
// them into a fresh DENO_DIR as it would from npm, and resolves the package's exports with its
// conditions (deno, then node: dist/node/, the build with the Node error table and Deno's messages).
// Runs in Node (a *.host.test.ts file) and starts the pinned Deno.
import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {at, fault} from '../../../support/fault.js';
import {packAll, type Packed} from '../packages.js';

declare module 'vitest' {
	export interface ProvidedContext {
		/** The runtime's binary, for *.host.test.ts files. */
		runtimeBinary: string;
		/** The repository's root, for *.host.test.ts files. */
		root: string;
	}
}

let registry: http.Server;
let registryUrl: string;
let packs: Packed[];
const requested: string[] = [];

beforeAll(async () => {
	packs = packAll(inject('root'));
	registry = http.createServer((request, response) => {
		const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname.slice(1));
		requested.push(path);
		const tarball = packs.find((p) => path === `-/${p.name}-${p.version}.tgz`);
		if (tarball) {
			response.writeHead(200, {'content-type': 'application/octet-stream'});
			return void response.end(readFileSync(tarball.tarball));
		}
		const pack = packs.find((p) => p.name === path);
		if (!pack) {
			response.writeHead(404, {'content-type': 'application/json'});
			return void response.end('{"error":"not found"}');
		}
		// A packument as the npm registry gives it: the manifest plus where the tarball is.
		const version = {...pack.manifest, dist: {tarball: `${registryUrl}-/${pack.name}-${pack.version}.tgz`, integrity: pack.integrity, shasum: pack.shasum}};
		response.writeHead(200, {'content-type': 'application/json'});
		response.end(JSON.stringify({name: pack.name, 'dist-tags': {latest: pack.version}, versions: {[pack.version]: version}}));
	});
	await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
	registryUrl = `http://127.0.0.1:${(registry.address() as {port: number}).port}/`;
}, 120_000);

afterAll(async () => {
	await new Promise((resolve) => registry?.close(resolve));
	for (const pack of packs ?? []) rmSync(join(pack.tarball, '..'), {recursive: true, force: true});
});

/** Runs a module with the pinned Deno in a fresh directory and DENO_DIR; resolves with its stdout parsed. */
function deno(source: string): Promise<{code: number | null; out: unknown; stderr: string}> {
	const dir = mkdtempSync(join(tmpdir(), 'surefetch-deno-app-'));
	writeFileSync(join(dir, 'main.ts'), source);
	return new Promise((resolve, reject) => {
		const child = spawn(inject('runtimeBinary'), ['run', '--allow-net=127.0.0.1', '--allow-env', '--allow-read', '--no-prompt', 'main.ts'], {
			cwd: dir,
			stdio: ['ignore', 'pipe', 'pipe'],
			env: {...process.env, NPM_CONFIG_REGISTRY: registryUrl, DENO_DIR: join(dir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1'},
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk) => (stdout += chunk));
		child.stderr.on('data', (chunk) => (stderr += chunk));
		const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
		child.on('error', reject);
		child.on('close', (code) => {
			clearTimeout(killer);
			rmSync(dir, {recursive: true, force: true});
			let out: unknown;
			try {
				out = JSON.parse(stdout.trim().split('\n').pop() ?? '');
			} catch {
				out = stdout;
			}
			resolve({code, out, stderr});
		});
	});
}

describe('Deno: npm:surefetch from the packed package', () => {
	it('imports the default export and the named ones, and gets the build with the Node error table', async () => {
		const {code, out, stderr} = await deno(`
			import surefetch, {createClient, isFetchError, TimeoutError} from 'npm:surefetch';
			const data = await surefetch.get(${JSON.stringify(at('/charset/gbk?as=json'))}).json();
			const api = createClient({retry: 0});
			const refused = await api.get(${JSON.stringify(fault.refusedUrl)}).catch((e) => e);
			const stalled = await api.get(${JSON.stringify(at('/stall-before-headers'))}, {timeout: {headers: 200}}).catch((e) => e);
			console.log(JSON.stringify({
				greeting: data.greeting,
				refused: [isFetchError(refused), refused.kind, refused.code, refused.phase],
				stalled: [stalled instanceof TimeoutError, stalled.phase, stalled.timeout],
			}));
		`);
		expect(stderr).not.toMatch(/error/i);
		expect(code).toBe(0);
		expect(out).toEqual({
			greeting: '简体中文：你好，世界！欢迎使用',
			// 'refused', not 'unknown': Deno resolved the `node` build, which reads Deno's messages.
			refused: [true, 'network', 'refused', 'headers'],
			stalled: [true, 'headers', 200],
		});
		// Deno asked the registry for the package and its two dependencies, and nothing else it needed.
		expect(requested).toEqual(expect.arrayContaining(['surefetch', 'ky', 'abort-controller-x']));
	}, 120_000);

	it('a pinned version specifier resolves too (npm:surefetch@<version>)', async () => {
		const version = packs.find((p) => p.name === 'surefetch')!.version;
		const {code, out} = await deno(`
			import {createClient} from 'npm:surefetch@${version}';
			console.log(JSON.stringify(await createClient().get(${JSON.stringify(at('/ok'))}).json()));
		`);
		expect(code).toBe(0);
		expect(out).toEqual({ok: true});
	}, 120_000);
});
