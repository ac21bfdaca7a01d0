#!/usr/bin/env node
// `npm test`: every step below, in order, each in its own process group with a time limit. A failed
// step does not stop the run: every step runs, and every failure is listed at the end under a
// summary table (step, runtime, time, passed / failed / skipped from vitest's JSON report). The
// exit code is 1 when any step failed; a test step fails when vitest fails, when its report is
// missing, when it ran no test, and when it skipped one (a skip is not a pass).
//
//   npm test                          all steps
//   npm test -- node22 browser        only these (node22 is node22 + node22-transport; `node` is every Node step)
//   npm test -- bun                   one runtime's suite alone (bun, deno, workerd, firefox)
//   npm test -- --list                the step names
//
// The Node running this script (the machine's, which may be older than the package supports) only
// runs this script: the tools and every suite run on the pinned Node binaries of
// test/support/ensure-node.mjs (downloaded once from the npm registry). The suites import the
// built package, so `build` runs before any test step even when it is not named.
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, rmSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (path) => fileURLToPath(new URL(`../node_modules/${path}`, import.meta.url));
const vitest = bin('vitest/vitest.mjs');
/** The Node lines the suite runs on (ensure-node.mjs pins the exact versions). */
const NODE_LINES = [22, 24, 26];
/** The Node that runs the tools and the browser suite's vitest. */
const TOOL_NODE = 24;
/** No step may take longer than this (a hang must not hang `npm test`); SUREFETCH_STEP_LIMIT_S overrides. */
const STEP_LIMIT_MS = 1000 * Number(process.env.SUREFETCH_STEP_LIMIT_S || 40 * 60);

/** @typedef {{name: string, title: string, node: number, kind: 'tool' | 'vitest' | 'runtime', args: string[], report?: string}} Step */
/** @type {Step[]} */
const steps = [
	{name: 'build', title: 'build (tsup) and package lint (publint)', node: TOOL_NODE, kind: 'tool', args: []},
	{name: 'typecheck', title: 'type-check (tsc)', node: TOOL_NODE, kind: 'tool', args: [bin('typescript/bin/tsc'), '--noEmit', '-p', '.']},
	...NODE_LINES.flatMap((major) => [
		{name: `node${major}`, title: `Node ${major}: the Node suite (contract + Node-only tests)`, node: major, kind: 'vitest', args: ['test/vitest.config.ts']},
		{name: `node${major}-transport`, title: `Node ${major}: the contract suite over surefetch/node`, node: major, kind: 'vitest', args: ['test/vitest.transport.config.ts']},
	]),
	{name: 'browser', title: 'Chromium: the contract and browser suites (vitest browser mode)', node: TOOL_NODE, kind: 'vitest', args: ['test/vitest.browser.config.ts']},
	// The contract suite and each runtime's own cases, bundled against the built package and run by
	// test/runtimes/run.mjs (it fetches the pinned runtime and writes a report shaped like vitest's).
	...['bun', 'deno', 'workerd', 'firefox'].map((name) => ({name, title: `${name}: the contract suite and its own cases`, node: TOOL_NODE, kind: 'runtime', args: [name]})),
];

function usage() {
	return `usage: npm test [-- <step>...]\nsteps:\n${steps.map((s) => `  ${s.name.padEnd(18)}${s.title}`).join('\n')}\n`
		+ `  ${'node'.padEnd(18)}every Node step\n  nodeNN selects nodeNN and nodeNN-transport`;
}

const args = process.argv.slice(2);
if (args.includes('--list') || args.includes('--help') || args.includes('-h')) {
	console.log(usage());
	process.exit(0);
}
const unknownFlag = args.find((a) => a.startsWith('-'));
if (unknownFlag) {
	console.error(`unknown option ${unknownFlag}\n${usage()}`);
	process.exit(2);
}
const selected = new Set();
for (const word of args) {
	const matches = steps.filter((s) => s.name === word || (word === 'node' && /^node\d/.test(s.name)) || s.name === `${word}-transport`);
	if (matches.length === 0) {
		console.error(`unknown step "${word}"\n${usage()}`);
		process.exit(2);
	}
	for (const step of matches) selected.add(step.name);
}
if (selected.size === 0) for (const step of steps) selected.add(step.name);
if ([...selected].some((name) => steps.find((s) => s.name === name).kind !== 'tool')) selected.add('build');
const plan = steps.filter((s) => selected.has(s.name));

mkdirSync(new URL('../test-output', import.meta.url), {recursive: true});

/** Pinned Node binaries by major: a path, or an Error saying why there is none. */
const binaries = new Map();
function nodeBinary(major) {
	if (!binaries.has(major)) {
		const result = spawnSync(process.execPath, [fileURLToPath(new URL('./support/ensure-node.mjs', import.meta.url)), String(major)], {cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 10 * 60_000});
		binaries.set(major, result.status === 0 ? result.stdout.trim() : new Error(`Node ${major} could not be installed by test/support/ensure-node.mjs (exit ${result.status ?? result.signal})`));
	}
	return binaries.get(major);
}
const versionOf = (binary) => spawnSync(binary, ['--version'], {encoding: 'utf8'}).stdout.trim().replace(/^v/, '');

let current; // the running child, for signals
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.on(signal, () => {
		if (current) killGroup(current);
		console.error(`\n${signal}: stopped`);
		process.exit(130);
	});
}
function killGroup(child) {
	try {
		process.kill(-child.pid, 'SIGKILL');
	} catch {
		// already gone
	}
}

/** Runs a command in its own process group; resolves with {code, timedOut}. */
function run(command, commandArgs) {
	return new Promise((resolve) => {
		const child = spawn(command, commandArgs, {cwd: root, stdio: ['ignore', 'inherit', 'inherit'], detached: true});
		current = child;
		let timedOut = false;
		const limit = setTimeout(() => {
			timedOut = true;
			killGroup(child);
		}, STEP_LIMIT_MS);
		child.on('error', (error) => {
			clearTimeout(limit);
			current = undefined;
			resolve({code: null, timedOut, error});
		});
		child.on('exit', (code, signal) => {
			clearTimeout(limit);
			current = undefined;
			// Whatever the step left behind (a worker, a browser) goes with it.
			killGroup(child);
			resolve({code: code ?? signal, timedOut});
		});
	});
}

/** The failed tests of a vitest JSON report, one line each. */
function failuresIn(report) {
	const lines = [];
	for (const file of report.testResults ?? []) {
		const name = file.name.startsWith(root) ? file.name.slice(root.length) : file.name;
		const failed = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
		for (const test of failed) {
			const message = (test.failureMessages?.[0] ?? '').split('\n').find((line) => line.trim()) ?? '';
			lines.push(`${name} > ${test.fullName}: ${message.trim().slice(0, 300)}`);
		}
		if (file.status === 'failed' && failed.length === 0) lines.push(`${name}: ${(file.message || 'the file failed outside its tests').split('\n')[0].slice(0, 300)}`);
	}
	return lines;
}

/** @type {Array<{step: Step, runtime: string, seconds: number, counts?: {passed: number, failed: number, skipped: number}, problems: string[]}>} */
const results = [];
for (const step of plan) {
	console.log(`\n=== ${step.name}: ${step.title}`);
	const started = Date.now();
	const problems = [];
	let counts;
	let runtime = '';
	const binary = nodeBinary(step.node);
	if (binary instanceof Error) {
		problems.push(binary.message);
	} else {
		runtime = `node ${versionOf(binary)}`;
		if (step.name === 'build') {
			const built = await run(binary, [bin('tsup/dist/cli-default.js')]);
			if (built.code !== 0) problems.push(built.timedOut ? 'tsup timed out' : `tsup exited ${built.code}`);
			else {
				const linted = await run(binary, [bin('publint/src/cli.js'), '--strict']);
				if (linted.code !== 0) problems.push(linted.timedOut ? 'publint timed out' : `publint exited ${linted.code}`);
			}
		} else if (step.kind === 'tool') {
			const done = await run(binary, step.args);
			if (done.code !== 0) problems.push(done.timedOut ? `timed out after ${STEP_LIMIT_MS / 1000} s` : `exited ${done.code}`);
		} else {
			if (step.name === 'browser') runtime = `chromium (vitest on node ${versionOf(binary)})`;
			if (step.kind === 'runtime') runtime = `${step.name} (driver on node ${versionOf(binary)})`;
			const report = `test-output/vitest-${step.name}.json`;
			rmSync(new URL(`../${report}`, import.meta.url), {force: true}); // never read a report of an earlier run
			const done = step.kind === 'runtime'
				? await run(binary, [fileURLToPath(new URL('./runtimes/run.mjs', import.meta.url)), step.args[0], '--report', report])
				: await run(binary, [vitest, 'run', '--config', step.args[0], '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]);
			if (done.timedOut) problems.push(`timed out after ${STEP_LIMIT_MS / 1000} s (the process group was killed)`);
			const path = new URL(`../${report}`, import.meta.url);
			if (!existsSync(path)) problems.push(`no JSON report (${report}): vitest exited ${done.code} before writing it`);
			else {
				const json = JSON.parse(readFileSync(path, 'utf8'));
				counts = {passed: json.numPassedTests, failed: json.numFailedTests, skipped: json.numPendingTests + json.numTodoTests};
				problems.push(...failuresIn(json));
				if (json.numTotalTests === 0 || json.numPassedTests === 0) problems.push('no test ran');
				if (counts.skipped > 0) problems.push(`${counts.skipped} test(s) skipped: a skip is not a pass`);
				if (done.code !== 0 && problems.length === 0) problems.push(`vitest exited ${done.code} (an error outside the tests: see its output above)`);
			}
		}
	}
	const seconds = (Date.now() - started) / 1000;
	results.push({step, runtime, seconds, counts, problems});
	console.log(`${problems.length === 0 ? '✓' : '✗'} ${step.name} (${seconds.toFixed(1)} s)`);
}

// The summary: a table, then every failure.
const table = [['step', 'runtime', 'time', 'passed', 'failed', 'skipped', 'result']];
for (const {step, runtime, seconds, counts, problems} of results) {
	table.push([step.name, runtime, `${seconds.toFixed(1)} s`, counts?.passed ?? '-', counts?.failed ?? '-', counts?.skipped ?? '-', problems.length === 0 ? 'ok' : 'FAILED']);
}
const widths = table[0].map((_, column) => Math.max(...table.map((row) => String(row[column]).length)));
const numeric = new Set([2, 3, 4, 5]);
console.log('\n=== summary');
for (const row of table) console.log(row.map((cell, column) => (numeric.has(column) ? String(cell).padStart(widths[column]) : String(cell).padEnd(widths[column]))).join('  ').trimEnd());
const total = (key) => results.reduce((sum, r) => sum + (r.counts?.[key] ?? 0), 0);
const failedSteps = results.filter((r) => r.problems.length > 0);
console.log(`\n${total('passed')} passed, ${total('failed')} failed, ${total('skipped')} skipped; ${results.length - failedSteps.length} of ${results.length} steps ok`);
if (failedSteps.length > 0) {
	console.log('\n=== failures');
	for (const {step, problems} of failedSteps) {
		console.log(`${step.name}:`);
		for (const problem of problems) console.log(`  - ${problem}`);
	}
	process.exitCode = 1;
}
