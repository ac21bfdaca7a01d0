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

describe('README example: a policy of your own (refresh a token on a 401)', () => {
	it('the first attempt gets a 401, the token is refreshed once, the second attempt gets through', () => {
		const dir = new URL('../../test-output/', import.meta.url);
		mkdirSync(dir, {recursive: true});
		const file = new URL('refresh-example.mjs', dir);
		writeFileSync(file, example('refresh'));
		const id = uid('refresh');
		const result = spawnSync(process.execPath, ['--input-type=module', '-e', `
			import {api} from ${JSON.stringify(fileURLToPath(file))};
			const first = await api.get(${JSON.stringify(at(`/auth?id=${id}`))}).json();
			const second = await api.get(${JSON.stringify(at(`/auth?id=${id}`))}).json();
			const error = await api.get(${JSON.stringify(at('/auth?token=other'))}).catch((e) => e);
			console.log(JSON.stringify({first, second, error: {kind: error.kind, status: error.status, attempts: error.attempts}}));
		`], {encoding: 'utf8', timeout: 30_000});
		expect(result.stderr).toBe('');
		expect(JSON.parse(result.stdout)).toEqual({
			first: {ok: true},
			second: {ok: true},
			error: {kind: 'http', status: 401, attempts: 2}, // refreshed once, still refused: the 401 is the answer
		});
		return stats(id).then((s) => expect(s.hits).toBe(3)); // 401 then 200, then 200 with the fresh token at once
	});
});

describe('README example: OpenTelemetry to the console', () => {
	it('prints one surefetch span per call, with the call\'s attributes', () => {
		const dir = new URL('../../test-output/', import.meta.url);
		mkdirSync(dir, {recursive: true});
		const file = new URL('otel-example.mjs', dir);
		writeFileSync(file, example('otel'));
		const id = uid('otel-example');
		const result = spawnSync(process.execPath, ['--input-type=module', '-e', `
			import {fetchUser} from ${JSON.stringify(fileURLToPath(file))};
			await fetchUser(${JSON.stringify(at(`/flaky?id=${id}&fail=1&status=503`))});
		`], {encoding: 'utf8', timeout: 30_000});
		expect(result.stderr).toBe('');
		expect(result.stdout).toContain("name: 'surefetch GET'");
		expect(result.stdout).toContain("'surefetch.attempts': 2");
		expect(result.stdout).toContain("name: 'surefetch.retry'");
	});
});

describe('README example: diagnostics channels', () => {
	it('a subscriber sees each call end, with its status and attempts, and each failure', () => {
		const dir = new URL('../../test-output/', import.meta.url);
		mkdirSync(dir, {recursive: true});
		const file = new URL('channels-example.mjs', dir);
		writeFileSync(file, example('channels'));
		const result = spawnSync(process.execPath, ['--input-type=module', '-e', `
			await import(${JSON.stringify(fileURLToPath(file))});
			const {createClient} = await import('surefetch');
			const api = createClient({retry: 0});
			await api.get(${JSON.stringify(at('/ok?token=S3CR3T'))}).json();
			await api.get(${JSON.stringify(at('/status/404'))}).catch(() => {});
		`], {encoding: 'utf8', timeout: 30_000, cwd: fileURLToPath(new URL('../..', import.meta.url))});
		expect(result.stderr).toBe('');
		const lines = result.stdout.trim().split('\n');
		expect(lines[0]).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/ok\?token=\*\*\* 200 1 \d/);
		expect(lines[1]).toMatch(/\/status\/404 http$/);
	});
});
