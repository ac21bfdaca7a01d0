// The built package as users import it: through its own name and `exports` map (self-reference),
// with `import` and with `require` (require(esm), Node >= 20.19), and two copies agreeing on errors.
import {spawnSync} from 'node:child_process';
import {cpSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {at} from '../support/fault.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function node(args: string[]): {status: number | null; stdout: string; stderr: string} {
	const result = spawnSync(process.execPath, args, {cwd: root, encoding: 'utf8', timeout: 20_000});
	return {status: result.status, stdout: result.stdout, stderr: result.stderr};
}

describe('the built package', () => {
	it('imports by name and makes a request', () => {
		const result = node(['--input-type=module', '-e', `
			import surefetch, {createClient, isFetchError, TimeoutError} from 'surefetch';
			const data = await surefetch.get(${JSON.stringify(at('/charset/gbk?as=json'))}).json();
			const error = await createClient({retry: 0}).get(${JSON.stringify(at('/stall-before-headers'))}, {timeout: {headers: 100}}).catch((e) => e);
			console.log(JSON.stringify({greeting: data.greeting, fetchError: isFetchError(error), timeout: error instanceof TimeoutError, phase: error.phase}));
		`]);
		expect(result.stderr).toBe('');
		expect(JSON.parse(result.stdout)).toEqual({greeting: '简体中文：你好，世界！欢迎使用', fetchError: true, timeout: true, phase: 'headers'});
	});

	it('surefetch/node imports by name and its transport works under the client', () => {
		const result = node(['--input-type=module', '-e', `
			import {createClient} from 'surefetch';
			import {createNodeTransport} from 'surefetch/node';
			const transport = createNodeTransport({connections: 4});
			const data = await createClient({fetch: transport, timeout: {connect: 1000}}).get(${JSON.stringify(at('/ok'))}).json();
			await transport.close();
			console.log(JSON.stringify(data));
		`]);
		expect(result.stderr).toBe('');
		expect(JSON.parse(result.stdout)).toEqual({ok: true});
	});

	it('loads with require() (require(esm))', () => {
		const result = node(['-e', `const s = require('surefetch'); console.log(typeof s.createClient, typeof s.default, typeof s.isFetchError)`]);
		expect(result.status, result.stderr).toBe(0);
		expect(result.stdout.trim()).toBe('function function function');
	});

	it('two copies of the package recognise each other\'s errors', () => {
		// Two installed copies: the built files twice, each with its own classes (ky resolves from the repository).
		const copies = new URL('../../node_modules/.cache/surefetch-copies/', import.meta.url);
		for (const name of ['one', 'two']) cpSync(new URL('../../dist/', import.meta.url), new URL(`${name}/`, copies), {recursive: true});
		const [one, two] = ['one', 'two'].map((name) => new URL(`${name}/index.js`, copies).href);
		const result = node(['--input-type=module', '-e', `
			const one = await import(${JSON.stringify(one)});
			const two = await import(${JSON.stringify(two)});
			const error = await one.createClient({retry: 0}).get('http://exa mple.com/').catch((e) => e);
			console.log(JSON.stringify([two.isFetchError(error), error instanceof two.FetchError, one.FetchError === two.FetchError]));
		`]);
		expect(JSON.parse(result.stdout)).toEqual([true, false, false]);
	});

	it('declares what bundlers and npm need', () => {
		const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Record<string, any>;
		expect(pkg).toMatchObject({name: 'surefetch', type: 'module', sideEffects: false, engines: {node: '>=20.19'}});
		// Node (and Bun, Deno) get the build with the Node error table; browsers and workers the one without.
		expect(pkg.exports['.']).toEqual({types: './dist/index.d.ts', node: './dist/node/index.js', default: './dist/index.js'});
		expect(pkg.exports['./node']).toEqual({types: './dist/node/node.d.ts', node: './dist/node/node.js'});
		expect(pkg.peerDependenciesMeta.undici.optional).toBe(true);
		expect(pkg.dependencies.ky).toBe('^2.1.0');
		const ky = JSON.parse(readFileSync(new URL('../../node_modules/ky/package.json', import.meta.url), 'utf8')) as {version: string};
		expect(ky.version).toMatch(/^2\./);
	});
});
