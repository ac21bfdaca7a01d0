#!/usr/bin/env node
// `npm test`: build, lint the package, type-check, then the whole suite on every supported Node
// (20 is the one running this script; 22 and 24 are pinned binaries from npm, fetched once by
// ensure-node.mjs), then the contract suite in Chromium, Bun, Deno, workerd and Firefox.
// `npm test -- node browser` (or `-- bun`, `-- deno`, `-- workerd`, `-- firefox`) runs some steps.
// Any step failing fails the run; nothing is skipped silently.
import {spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const args = process.argv.slice(2);
const only = new Set(args.filter((a) => !a.startsWith('-')));
const want = (step) => only.size === 0 || only.has(step);

function run(title, command, commandArgs, options = {}) {
	console.log(`\n=== ${title}`);
	const started = Date.now();
	const result = spawnSync(command, commandArgs, {cwd: root, stdio: 'inherit', ...options});
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	if (result.status !== 0) {
		console.error(`\n✗ ${title} failed (${seconds}s)`);
		process.exit(result.status ?? 1);
	}
	console.log(`✓ ${title} (${seconds}s)`);
}

function nodeBinary(major) {
	const result = spawnSync(process.execPath, [fileURLToPath(new URL('./support/ensure-node.mjs', import.meta.url)), String(major)], {cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']});
	if (result.status !== 0) {
		console.error(`Node ${major} is needed for the suite and could not be installed (see above).`);
		process.exit(1);
	}
	return result.stdout.trim();
}

if (want('build')) run('build (tsup)', process.execPath, [fileURLToPath(new URL('../node_modules/tsup/dist/cli-default.js', import.meta.url))]);
if (want('build')) run('package lint (publint)', process.execPath, [fileURLToPath(new URL('../node_modules/publint/src/cli.js', import.meta.url)), '--strict']);
if (want('typecheck')) run('type-check (tsc)', process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '--noEmit', '-p', '.']);
// Each vitest run also writes a JSON report; the totals become the closing line.
const totals = {passed: 0, failed: 0, skipped: 0};
mkdirSync(new URL('../test-output', import.meta.url), {recursive: true});
function vitestRun(title, binary, name, config = 'test/vitest.config.ts') {
	const report = `test-output/vitest-${name}.json`;
	run(title, binary, [vitest, 'run', '--config', config, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]);
	const result = JSON.parse(readFileSync(new URL(`../${report}`, import.meta.url), 'utf8'));
	totals.passed += result.numPassedTests;
	totals.failed += result.numFailedTests;
	totals.skipped += result.numPendingTests + result.numTodoTests;
	if (result.numTotalTests === 0) {
		console.error(`✗ ${title}: no test ran`);
		process.exit(1);
	}
}
// Each Node: the whole Node suite, then the contract suite over the surefetch/node transport.
function nodeRuns(label, binary, name) {
	vitestRun(`${label}: vitest`, binary, name);
	vitestRun(`${label}: contract suite over surefetch/node`, binary, `${name}-transport`, 'test/vitest.transport.config.ts');
}
if (want('node')) nodeRuns(`Node ${process.versions.node}`, process.execPath, `node${process.versions.node.split('.')[0]}`);
for (const major of [22, 24]) {
	if (!want(`node${major}`)) continue;
	const binary = nodeBinary(major);
	nodeRuns(`Node ${major} (${binary})`, binary, `node${major}`);
}
// The contract suite again, in Chromium (Debian's; CHROMIUM_PATH overrides). Missing Chromium fails the run.
if (want('browser')) vitestRun('Chromium: vitest browser mode', process.execPath, 'chromium', 'test/vitest.browser.config.ts');
// The contract suite and their own cases in Bun, Deno, workerd and Firefox (test/runtimes/run.mjs: it
// fetches the pinned runtimes, bundles the same test files, and writes a report shaped like vitest's).
// A runtime that cannot start fails its step. `npm test -- bun` runs one alone.
for (const name of ['bun', 'deno', 'workerd', 'firefox']) {
	if (!want(name)) continue;
	const report = `test-output/vitest-${name}.json`;
	run(`${name}: the contract suite and its own cases`, process.execPath, [fileURLToPath(new URL('./runtimes/run.mjs', import.meta.url)), name, '--report', report]);
	const result = JSON.parse(readFileSync(new URL(`../${report}`, import.meta.url), 'utf8'));
	totals.passed += result.numPassedTests;
	totals.failed += result.numFailedTests;
	totals.skipped += result.numPendingTests + result.numTodoTests;
}
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
