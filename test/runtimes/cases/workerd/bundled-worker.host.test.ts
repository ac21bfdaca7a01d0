// A Worker as a user writes it: `import surefetch from 'surefetch'` with the packed package installed
// in node_modules, bundled by esbuild with the conditions a Workers build uses (workerd, worker,
// browser), then served by the pinned workerd with no Node compatibility flag. esbuild must pick the
// default build (no Node-only code), and the worker must answer with surefetch's union.
// Runs in Node (a *.host.test.ts file) and starts workerd.
import {spawn} from 'node:child_process';
import {readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {build} from 'esbuild';
import {afterAll, describe, expect, inject, it} from 'vitest';
import {at, fault} from '../../../support/fault.js';
import {installAll, packAll} from '../packages.js';

declare module 'vitest' {
	export interface ProvidedContext {
		runtimeBinary: string;
		root: string;
	}
}

const WORKER = `
import surefetch, {createClient, isFetchError} from 'surefetch';
const api = createClient({retry: 0, timeout: {headers: 300}});
const describe = (e) => isFetchError(e) ? {kind: e.kind, code: e.code, phase: e.phase} : {raw: String(e)};
export default {
	async fetch(request) {
		const data = await surefetch.get(${JSON.stringify(at('/charset/shift_jis?as=json'))}).json();
		const refused = await api.get(${JSON.stringify(fault.refusedUrl)}).catch(describe);
		const stalled = await api.get(${JSON.stringify(at('/stall-before-headers'))}).catch(describe);
		const gzip = await api.get(${JSON.stringify(at('/bad-gzip'))}).text().catch(describe);
		return Response.json({greeting: data.greeting, refused, stalled, gzip});
	},
};
`;

let app: string | undefined;
afterAll(() => {
	if (app) rmSync(app, {recursive: true, force: true});
});

describe('workerd: a worker bundled by esbuild from the packed package', () => {
	it('resolves the default build and answers with the union', async () => {
		app = installAll(packAll(inject('root')));
		writeFileSync(join(app, 'worker.mjs'), WORKER);
		const result = await build({
			absWorkingDir: app, entryPoints: ['worker.mjs'], bundle: true, format: 'esm', platform: 'neutral', target: 'es2022',
			conditions: ['workerd', 'worker', 'browser'], mainFields: ['browser', 'module', 'main'],
			outfile: join(app, 'dist', 'worker.mjs'), metafile: true, logLevel: 'silent',
		});
		const inputs = Object.keys(result.metafile.inputs);
		expect(inputs).toContain('node_modules/surefetch/dist/index.js');
		expect(inputs.filter((path) => path.includes('surefetch/dist/node/'))).toEqual([]);
		expect(readFileSync(join(app, 'dist', 'worker.mjs'), 'utf8')).not.toMatch(/from ["']node:/);
		writeFileSync(join(app, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .main), (name = "internet", network = (allow = ["local"]))],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const main :Workerd.Worker = (modules = [(name = "worker.mjs", esModule = embed "dist/worker.mjs")], compatibilityDate = "2026-11-01");
`);
		const child = spawn(inject('runtimeBinary'), ['serve', 'config.capnp', '--control-fd', '3'], {cwd: app, stdio: ['ignore', 'ignore', 'pipe', 'pipe']});
		let stderr = '';
		child.stderr!.on('data', (chunk) => (stderr += chunk));
		try {
			const port = await new Promise<number>((resolve, reject) => {
				let control = '';
				const timer = setTimeout(() => reject(new Error(`workerd did not listen: ${stderr}`)), 30_000);
				(child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk) => {
					control += chunk;
					const line = control.split('\n').find((l) => l.includes('"listen"'));
					if (line) {
						clearTimeout(timer);
						resolve((JSON.parse(line) as {port: number}).port);
					}
				});
				child.once('exit', (code) => reject(new Error(`workerd exited ${code}: ${stderr}`)));
			});
			const response = await fetch(`http://127.0.0.1:${port}/`, {signal: AbortSignal.timeout(30_000)});
			expect(await response.json()).toEqual({
				greeting: '日本語：こんにちは、世界。カタカナ',
				refused: {kind: 'network', code: 'unknown', phase: 'headers'},
				stalled: {kind: 'timeout', phase: 'headers'},
				gzip: {kind: 'network', code: 'protocol', phase: 'body'},
			});
		} finally {
			child.kill('SIGKILL');
		}
	}, 120_000);
});
