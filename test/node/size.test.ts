// Size budgets, checked on every `npm test`: a front end that imports `createClient` and does one
// `.json()`, and the whole package, bundled the way front ends bundle it (esbuild, minified, gzip -9).
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {gzipSync} from 'node:zlib';
import {build} from 'esbuild';
import {describe, expect, it} from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const budgets = JSON.parse(readFileSync(new URL('../size-budgets.json', import.meta.url), 'utf8')) as Record<string, number>;

async function gzipSize(source: string): Promise<number> {
	const result = await build({
		stdin: {contents: source, resolveDir: root, loader: 'js'},
		bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
	});
	return gzipSync(result.outputFiles[0]!.contents, {level: 9}).length;
}

describe('size budgets', () => {
	it('a front end: createClient and one .json()', async () => {
		const size = await gzipSize(`import {createClient} from 'surefetch';
createClient({baseUrl: 'https://api.example.com'}).get('users/1').json().then(console.log);`);
		const ky = await gzipSize(`import ky from 'ky'; ky.get('https://api.example.com/users/1').json().then(console.log);`);
		console.log(`front end: ${size} B gzip (budget ${budgets.frontEnd}); ky alone: ${ky} B`);
		expect(size).toBeLessThanOrEqual(budgets.frontEnd!);
	});

	it('the whole package', async () => {
		const size = await gzipSize(`import * as surefetch from 'surefetch'; console.log(surefetch);`);
		console.log(`whole package: ${size} B gzip (budget ${budgets.wholePackage})`);
		expect(size).toBeLessThanOrEqual(budgets.wholePackage!);
	});
});
