// Bun with the packed package installed in node_modules, as `bun add` lays it out: Bun resolves the
// exports map with the `bun` condition first, then `node`, so it gets dist/node/ (the Node error
// table, which knows Bun's codes). Runs in Node (a *.host.test.ts file) and starts the pinned Bun.
import {spawnSync} from 'node:child_process';
import {rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, describe, expect, inject, it} from 'vitest';
import {fault} from '../../../support/fault.js';
import {installAll, packAll} from '../packages.js';

declare module 'vitest' {
	export interface ProvidedContext {
		runtimeBinary: string;
		root: string;
	}
}

let app: string | undefined;
afterAll(() => {
	if (app) rmSync(app, {recursive: true, force: true});
});

describe('Bun: the installed package', () => {
	it('resolves to dist/node/ and classifies with the Node table', () => {
		app = installAll(packAll(inject('root')));
		writeFileSync(join(app, 'main.mjs'), `
			import {createClient} from 'surefetch';
			const error = await createClient({retry: 0}).get(${JSON.stringify(fault.refusedUrl)}).catch((e) => e);
			console.log(JSON.stringify({resolved: import.meta.resolve('surefetch'), kind: error.kind, code: error.code}));
		`);
		const run = spawnSync(inject('runtimeBinary'), ['main.mjs'], {cwd: app, encoding: 'utf8', timeout: 60_000, env: {...process.env, DO_NOT_TRACK: '1'}});
		expect(run.stderr).toBe('');
		const out = JSON.parse(run.stdout.trim()) as {resolved: string; kind: string; code: string};
		expect(out.resolved).toMatch(/\/node_modules\/surefetch\/dist\/node\/index\.js$/);
		expect(out).toMatchObject({kind: 'network', code: 'refused'});
	}, 120_000);
});
