// The README's crawler example, run as written: the code block is cut out of README.md, imports
// 'surefetch' by name (the built package), and crawls the fault server.
import {spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {at, stats, uid} from '../support/fault.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function example(name: string): string {
	const match = new RegExp(`<!-- example:${name} -->\\n\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readme);
	if (!match) throw new Error(`README.md has no example "${name}"`);
	return match[1]!;
}

describe('README example: a polite crawler', () => {
	it('crawls with 4 per host and 10 per second, collects every result, and closes', () => {
		const dir = new URL('../../test-output/', import.meta.url);
		mkdirSync(dir, {recursive: true});
		const file = new URL('crawler-example.mjs', dir);
		writeFileSync(file, example('crawler'));
		const group = uid('crawl');
		const urls = [
			...Array.from({length: 10}, (_, i) => at(`/trickle?every=20&chunks=5&size=10&group=${group}&n=${i}`)),
			at(`/flaky?id=${uid('c')}&fail=1&status=503&group=${group}`),
			at(`/status/404?group=${group}`),
			at(`/reset-before-headers?group=${group}`),
		];
		const started = performance.now();
		const result = spawnSync(process.execPath, ['--input-type=module', '-e', `
			import {crawl} from ${JSON.stringify(fileURLToPath(file))};
			console.log(JSON.stringify(await crawl(${JSON.stringify(urls)})));
		`], {encoding: 'utf8', timeout: 110_000});
		const elapsed = performance.now() - started;
		expect(result.stderr).toBe('');
		const rows = JSON.parse(result.stdout) as Array<{ok: boolean; kind?: string; length?: number}>;
		expect(rows).toHaveLength(13);
		expect(rows.slice(0, 10).every((row) => row.ok && row.length === 50)).toBe(true);
		expect(rows[10]).toMatchObject({ok: true}); // a 503, retried
		expect(rows[11]).toMatchObject({ok: false, kind: 'http'});
		expect(rows[12]).toMatchObject({ok: false, kind: 'network'});
		// 13 requests + retries at 10 per second: the last ones wait for the second window.
		expect(elapsed).toBeGreaterThanOrEqual(1000);
		return stats(undefined, group).then((s) => expect(s.groupMaxInFlight).toBeLessThanOrEqual(4));
	}, 120_000);
});
