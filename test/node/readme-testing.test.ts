// The README's sections on the command and on testing with MSW, held to what the code does: the two
// MSW test files are cut out of README.md (`<!-- example:NAME -->`, as readme-example.test.ts does)
// and run by vitest in a child, importing 'surefetch' by name (the built package); the -v block is
// compared with a fresh run of the command; the options table with --help.
import {spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {at, uid} from '../support/fault.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function example(name: string): string {
	const match = new RegExp(`<!-- example:${name} -->\\n\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readme);
	if (!match) throw new Error(`README.md has no example "${name}"`);
	return match[1]!;
}

function cli(args: string[]) {
	return spawnSync(process.execPath, [`${root}dist/node/cli.js`, ...args], {encoding: 'utf8', timeout: 30_000});
}

describe('README: testing with MSW', () => {
	it('both test files pass under vitest: setupServer for the default client, the socket interceptor for surefetch/node', () => {
		const dir = new URL('../../test-output/readme-testing/', import.meta.url);
		mkdirSync(dir, {recursive: true});
		writeFileSync(new URL('msw.test.mjs', dir), example('msw'));
		writeFileSync(new URL('msw-node.test.mjs', dir), example('msw-node'));
		writeFileSync(new URL('vitest.config.mjs', dir), "export default {test: {include: ['*.test.mjs'], testTimeout: 20000}};\n");
		const result = spawnSync(process.execPath, [`${root}node_modules/vitest/vitest.mjs`, 'run', '--config', './vitest.config.mjs', '--reporter=json', '--outputFile.json=./report.json'], {
			cwd: fileURLToPath(dir),
			encoding: 'utf8',
			timeout: 120_000,
		});
		expect(result.error).toBeUndefined();
		const report = JSON.parse(readFileSync(new URL('report.json', dir), 'utf8')) as {numPassedTests: number; numFailedTests: number; testResults: Array<{assertionResults: Array<{title: string; status: string}>}>};
		const titles = report.testResults.flatMap((file) => file.assertionResults.map((test) => `${test.status}: ${test.title}`)).sort();
		expect(titles).toEqual([
			'passed: a user',
			'passed: a user, through surefetch/node',
			'passed: no such user: an HttpError with the decoded body',
			'passed: the API is slow: the headers deadline fires',
			'passed: the network fails: a NetworkError',
		]);
		expect(result.status, result.stderr).toBe(0);
	}, 150_000);
});

describe('README: the surefetch command', () => {
	/** A waterfall as rows of label and note, numbers and bars left out: what must not drift. */
	function skeleton(text: string): string[] {
		const lines = text.split('\n');
		const top = lines.findIndex((line) => line.startsWith('phase'));
		const bottom = lines.findIndex((line) => line.startsWith('total'));
		expect(top).toBeGreaterThanOrEqual(0);
		expect(bottom).toBeGreaterThan(top);
		return lines.slice(top + 1, bottom + 1).map((line) => `${line.slice(0, 11).trimEnd()} | ${line.slice(line.startsWith('total') ? 27 : 69).trim()}`.replaceAll(/\d+/g, 'N'));
	}

	it('the -v block is what the command prints for a reset, then a retry', () => {
		const block = /<!-- output:cli-v -->\n```\n([\s\S]*?)```/.exec(readme)?.[1];
		expect(block).toBeDefined();
		expect(block).toMatch(/^\$ surefetch -v 'http:\/\/127\.0\.0\.1:\d+\/flaky\?id=x&fail=1&mode=reset'\n/);
		const run = cli(['-v', at(`/flaky?id=${uid('readme-v')}&fail=1&mode=reset`)]);
		expect(run.status, run.stderr).toBe(0);
		expect(skeleton(block!)).toEqual(skeleton(run.stderr));
		expect(skeleton(run.stderr)).toEqual([
			'attempt N | ', '  queue | ', '  connect | ', '  headers | ✗ network reset (ECONNRESET)', 'backoff | N ms planned',
			'attempt N | ', '  queue | ', '  connect | ', '  headers | ← N OK', '  body | N B', 'total | N attempts, N OK',
		]);
	});

	it('every option of --help is in the README\'s table', () => {
		const help = cli(['--help']).stdout;
		const options = [...new Set(help.match(/--[a-z][a-z-]+/g))];
		expect(options.length).toBeGreaterThan(10);
		const section = readme.slice(readme.indexOf('## The `surefetch` command'), readme.indexOf('### `-v`'));
		for (const option of options) expect(section, option).toContain(`\`${option}`);
	});
});
