// Size budgets, checked on every `npm test`, bundled the way front ends bundle surefetch: esbuild
// through the package's `exports` map (browser platform: the `default` build), minified, gzip -9.
// A front end with no policy, the same with each policy, and everything surefetch exports.
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {gzipSync} from 'node:zlib';
import {build} from 'esbuild';
import {describe, expect, it} from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const budgets = JSON.parse(readFileSync(new URL('../size-budgets.json', import.meta.url), 'utf8')) as Record<string, number>;

async function bundle(source: string): Promise<{gzip: number; text: string}> {
	const result = await build({
		stdin: {contents: source, resolveDir: root, loader: 'js'},
		bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
	});
	const bytes = result.outputFiles[0]!.contents;
	return {gzip: gzipSync(bytes, {level: 9}).length, text: result.outputFiles[0]!.text};
}

const lean = (use = '', imports = '') => `import {createClient${imports}} from 'surefetch';
createClient({baseUrl: 'https://api.example.com'${use}}).get('users/1').json().then(console.log);`;

describe('size budgets', () => {
	it('a front end with no policy: createClient and one .json()', async () => {
		const {gzip, text} = await bundle(lean());
		const ky = (await bundle(`import ky from 'ky'; ky.get('https://api.example.com/users/1').json().then(console.log);`)).gzip;
		console.log(`lean front end: ${gzip} B gzip (budget ${budgets.lean}); ky alone: ${ky} B`);
		expect(gzip).toBeLessThanOrEqual(budgets.lean!);
		// The default build holds no Node-only code, and no policy's.
		expect(text).not.toMatch(/node:buffer|UND_ERR_|ECONNREFUSED/);
		expect(text).not.toMatch(/half-open|hedge\.delay|limit needs|dedupe/);
	});

	for (const policy of ['limit({concurrency: 4})', 'breaker()', 'hedge({delay: 100})', 'dedupe()']) {
		const name = policy.slice(0, policy.indexOf('('));
		it(`each policy adds at most its budget: ${name}`, async () => {
			const base = (await bundle(lean())).gzip;
			const {gzip} = await bundle(lean(`, use: [${policy}]`, `, ${name}`));
			console.log(`${name}: +${gzip - base} B gzip (budget ${budgets.perPolicy})`);
			expect(gzip - base).toBeLessThanOrEqual(budgets.perPolicy!);
		});
	}

	it('everything surefetch exports', async () => {
		const {gzip} = await bundle(`import * as surefetch from 'surefetch'; console.log(surefetch);`);
		console.log(`everything: ${gzip} B gzip (budget ${budgets.everything})`);
		expect(gzip).toBeLessThanOrEqual(budgets.everything!);
	});
});
