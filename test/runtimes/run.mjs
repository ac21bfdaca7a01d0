#!/usr/bin/env node
// The contract suite (test/contract/*.test.ts, the very files Node and Chromium run under vitest) and
// the runtime-only cases of test/runtimes/cases/, in a runtime where vitest cannot run:
//
//   node test/runtimes/run.mjs bun        Bun 1.4 (npm @oven/bun-linux-x64), one process per file
//   node test/runtimes/run.mjs deno       Deno 2.9 (npm @deno/linux-x64-glibc), one process per file
//   node test/runtimes/run.mjs workerd    workerd (npm @cloudflare/workerd-linux-64): the files are
//                                         modules of one worker; each runs on a request to it
//   node test/runtimes/run.mjs firefox    Debian's Firefox ESR over WebDriver BiDi: each file in a
//                                         fresh page load
//   node test/runtimes/run.mjs node       the Node running this script, the same way as Bun and Deno
//   node test/runtimes/run.mjs chromium   Chromium (CHROMIUM_PATH or /usr/bin/chromium) driven by
//                                         playwright-core, as Firefox is (vitest's browser mode runs the
//                                         suite in Chromium in `npm test`; this is for the probe)
//   options: --report <file.json> (default test-output/vitest-<runtime>.json), --grep <text>,
//            --files <a.test.ts,b.test.ts>
//
// Files named *.host.test.ts run in Node (this driver's), not in the runtime: they drive the runtime
// from outside (the packed package installed the way a user installs it, then run by the runtime).
//
// Each file is bundled by bundle.mjs with test/runtimes/harness.ts in place of 'vitest' and runs
// against the built package (dist/, rebuilt first when src/ is newer), resolved as that runtime
// resolves it. The fault server runs here, in Node, on 127.0.0.1; the tests reach it by the URLs
// `inject('fault')` gives them. The report has the shape of vitest's JSON report, so test/run.mjs
// counts it like the others. Exit code 1 when a test failed, a file did not run, no test ran, a test
// was skipped, or the runtime could not start (with a message saying how to get it).
//
// Time limits: each test 30 s (as vitest's testTimeout here), each file 5 min, the whole runtime
// 25 min (SUREFETCH_RUNTIME_LIMIT_S overrides); whatever is still running then is killed.

import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import {dirname, join, relative} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {startFaultServer} from '../fault-server/server.js';
import {bundleName, bundleTests} from './bundle.mjs';
import {ensureRuntime, howToGet, versionOf} from './ensure.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RUNTIMES = ['bun', 'deno', 'workerd', 'firefox', 'node', 'chromium'];
const TEST_TIMEOUT_MS = 30_000;
const FILE_LIMIT_MS = 5 * 60_000;
const RUNTIME_LIMIT_MS = 1000 * Number(process.env.SUREFETCH_RUNTIME_LIMIT_S || 25 * 60);

// The BiDi client needs a global WebSocket: Node 20 has it behind a flag.
if (typeof WebSocket === 'undefined' && !process.execArgv.includes('--experimental-websocket')) {
	const again = spawnSync(process.execPath, ['--experimental-websocket', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {stdio: 'inherit'});
	process.exit(again.status ?? 1);
}

const args = process.argv.slice(2);
const option = (name) => {
	const at = args.indexOf(name);
	return at === -1 ? undefined : args[at + 1];
};
const runtime = args.find((a, i) => !a.startsWith('-') && !args[i - 1]?.startsWith('--'));
if (!RUNTIMES.includes(runtime)) {
	console.error(`usage: node test/runtimes/run.mjs <${RUNTIMES.join('|')}> [--report file.json] [--grep text] [--files a.test.ts,b.test.ts]`);
	process.exit(2);
}
const reportPath = option('--report') ?? join('test-output', `vitest-${runtime}.json`);
const grep = option('--grep');
const started = Date.now();
const work = join(root, 'test-output', 'runtimes', runtime);

/** The files this runtime runs: every contract test, then its own cases (and those of every runtime). */
function testFiles() {
	const list = (dir) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((f) => f.endsWith('.test.ts')).sort().map((f) => `${dir}/${f}`) : []);
	let files = [...list('test/contract'), ...list('test/runtimes/cases'), ...list(`test/runtimes/cases/${runtime}`)];
	const only = option('--files');
	if (only) files = files.filter((f) => only.split(',').some((name) => f.endsWith(name)));
	return files;
}

/** dist/ as the package ships it; rebuilt when a source is newer (the runtimes test the build, not src/). */
function ensureBuild() {
	const built = join(root, 'dist', 'index.js');
	const newest = (dir) => readdirSync(dir, {withFileTypes: true}).reduce((max, e) => Math.max(max, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
	if (existsSync(built) && existsSync(join(root, 'dist', 'node', 'index.js')) && statSync(built).mtimeMs >= newest(join(root, 'src'))) return;
	console.log('dist/ is missing or older than src/: building (tsup)…');
	const result = spawnSync(process.execPath, [join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js')], {cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 10 * 60_000});
	if (result.status !== 0) throw new Error(`the build failed (tsup exited ${result.status ?? result.signal})`);
}

const mark = {passed: '✓', failed: '✗', skipped: '↓', todo: '↓'};
function printResult(r) {
	console.log(`  ${mark[r.status]} ${r.fullName} ${r.duration}ms`);
	for (const message of r.failureMessages) console.log(message.replace(/\x1b\[[0-9;]*m/g, '').replace(/^/gm, '      '));
}

/** A file that produced no result (crashed, timed out, did not load). */
const brokenFile = (file, message) => ({name: file, status: 'failed', message, startTime: Date.now(), endTime: Date.now(), assertionResults: []});

/** Runs `command` in its own process group, killed after `limitMs`; resolves {code, output, timedOut}. */
function runProcess(command, commandArgs, {limitMs, env, echo = true}) {
	return new Promise((resolve) => {
		const child = track(spawn(command, commandArgs, {cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: {...process.env, ...env}}));
		let output = '';
		let timedOut = false;
		const onData = (chunk) => {
			output += chunk;
			if (echo) process.stdout.write(chunk);
		};
		child.stdout.on('data', onData);
		child.stderr.on('data', onData);
		const timer = setTimeout(() => {
			timedOut = true;
			killGroup(child);
		}, limitMs);
		child.on('error', (error) => {
			clearTimeout(timer);
			resolve({code: null, output: `${output}\n${error.message}`, timedOut});
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			killGroup(child); // whatever it started goes with it
			resolve({code: code ?? signal, output, timedOut});
		});
	});
}

function killGroup(child) {
	live.delete(child);
	try {
		process.kill(-child.pid, 'SIGKILL');
	} catch {
		// gone already
	}
}

// Every child runs in a process group of its own (so a timeout takes what it started too): when this
// driver ends, however it ends short of SIGKILL, they go with it.
const live = new Set();
function track(child) {
	live.add(child);
	child.once('exit', () => live.delete(child));
	return child;
}
process.once('exit', () => {
	for (const child of [...live]) killGroup(child);
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.once(signal, () => {
		for (const child of [...live]) killGroup(child);
		process.exit(130);
	});
}

/**
 * Runs `runOne(entry, limitMs)` for each bundle in turn; `limitMs` is the file's own limit or what is
 * left of the runtime's. A file the runtime's limit leaves no time for is reported as not run.
 */
async function eachFile(bundles, deadline, runOne) {
	const results = [];
	for (const entry of bundles) {
		const left = deadline - Date.now();
		if (left <= 0) {
			results.push(brokenFile(entry.file, `not run: the runtime's time limit (${RUNTIME_LIMIT_MS / 1000} s) was reached`));
			continue;
		}
		console.log(`\n${entry.file}`);
		results.push(await runOne(entry, Math.min(FILE_LIMIT_MS, left)));
	}
	return results;
}

// ------------------------------------------------------------------------------------------------
// Bun and Deno: one process per file (a fresh module graph, as vitest gives each file).

const ENV = {
	deno: {DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', DENO_DIR: join(root, 'node_modules', '.cache', 'surefetch-runtimes', 'deno-dir'), NO_COLOR: '1'},
	bun: {DO_NOT_TRACK: '1', BUN_DISABLE_TELEMETRY: '1', NO_COLOR: '1'},
};

async function runProcesses(binary, bundles, provide, deadline, as = runtime) {
	return eachFile(bundles, deadline, async ({file, bundle}, limitMs) => {
		const resultFile = join(work, 'results', `${bundleName(file)}.json`);
		rmSync(resultFile, {force: true});
		const planFile = join(work, 'plans', `${bundleName(file)}.json`);
		writeFileSync(planFile, JSON.stringify({bundle, file, provide, testTimeout: TEST_TIMEOUT_MS, grep, results: resultFile}));
		const entry = join(root, 'test', 'runtimes', 'entry', 'process.mjs');
		const commandArgs = as === 'deno' ? ['run', '--allow-all', '--no-prompt', entry, planFile] : as === 'node' ? ['--no-warnings', entry, planFile] : [entry, planFile];
		const done = await runProcess(binary, commandArgs, {limitMs, env: ENV[as]});
		if (existsSync(resultFile)) return JSON.parse(readFileSync(resultFile, 'utf8'));
		if (done.code === 0) return brokenFile(file, `${runtime} exited 0 without writing a result`);
		return brokenFile(file, done.timedOut ? `killed after ${limitMs / 1000} s (the file's time limit)` : `${as} exited ${done.code} without a result:\n${done.output.slice(-3000)}`);
	});
}

// ------------------------------------------------------------------------------------------------
// workerd: the bundles are modules of one worker (no Node compatibility flag: the default build
// needs none). POST /run {file} runs that file's tests and streams NDJSON back: one line per test,
// then the file's result. Global outbound traffic may reach loopback and private addresses only
// (the fault server is on 127.0.0.1; a `.invalid` name fails in DNS).

const COMPATIBILITY_DATE = '2026-11-01';

function workerdConfig(bundles) {
	const modules = [
		'(name = "main.mjs", esModule = embed "main.mjs")',
		'(name = "provide.mjs", esModule = embed "provide.mjs")',
		...bundles.map(({bundle}) => `(name = ${JSON.stringify(`bundles/${relative(join(work, 'bundles'), bundle)}`)}, esModule = embed ${JSON.stringify(relative(work, bundle))})`),
	];
	return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .main),
    (name = "internet", network = (allow = ["local", "private"], tlsOptions = (trustBrowserCas = false))),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const main :Workerd.Worker = (
  modules = [
    ${modules.join(',\n    ')}
  ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
);
`;
}

function workerdMain(bundles) {
	return `import './provide.mjs';
${bundles.map(({bundle}, i) => `import * as file${i} from ${JSON.stringify(`./bundles/${relative(join(work, 'bundles'), bundle)}`)};`).join('\n')}
const files = {${bundles.map(({file}, i) => `${JSON.stringify(file)}: file${i}`).join(', ')}};
export default {
	async fetch(request, env, ctx) {
		const url = new URL(request.url);
		// A case file may serve requests of its own (workerd.test.ts: a module-scope client across requests).
		if (url.pathname.startsWith('/case/')) {
			const file = files[url.pathname.slice(6)];
			return file && file.__request ? file.__request(request) : new Response('no such case', {status: 404});
		}
		if (url.pathname !== '/run') return new Response('POST /run {file, grep, testTimeout}', {status: 404});
		globalThis.__surefetchProvide.workerdSelf = url.origin;
		const {file, grep, testTimeout} = await request.json();
		const {readable, writable} = new TransformStream();
		const writer = writable.getWriter();
		const line = (value) => writer.write(new TextEncoder().encode(JSON.stringify(value) + '\\n'));
		const done = files[file].__run({file, grep, testTimeout, onResult: (result) => line({test: result})})
			.then((result) => line({file: result}), (error) => line({error: String(error && error.stack || error)}))
			.finally(() => writer.close());
		ctx.waitUntil(done);
		return new Response(readable, {headers: {'content-type': 'application/x-ndjson'}});
	},
};
`;
}

async function startWorkerd(binary) {
	const child = track(spawn(binary, ['serve', join(work, 'config.capnp'), '--control-fd', '3'], {cwd: work, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true}));
	child.stdout.on('data', (chunk) => process.stdout.write(chunk));
	let stderr = '';
	child.stderr.on('data', (chunk) => {
		stderr += chunk;
		process.stdout.write(chunk);
	});
	const port = await new Promise((resolve, reject) => {
		let control = '';
		const timer = setTimeout(() => reject(new Error(`workerd did not listen within 60 s:\n${stderr}`)), 60_000);
		child.stdio[3].on('data', (chunk) => {
			control += chunk;
			const line = control.split('\n').find((l) => l.includes('"listen"'));
			if (line) {
				clearTimeout(timer);
				resolve(JSON.parse(line).port);
			}
		});
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			reject(new Error(`workerd exited (${code ?? signal}) before listening:\n${stderr}`));
		});
	}).catch((error) => {
		killGroup(child);
		throw error;
	});
	return {child, url: `http://127.0.0.1:${port}`};
}

async function runWorkerd(binary, bundles, provide, deadline) {
	writeFileSync(join(work, 'provide.mjs'), `globalThis.__surefetchProvide = ${JSON.stringify(provide)};\n`);
	writeFileSync(join(work, 'main.mjs'), workerdMain(bundles));
	writeFileSync(join(work, 'config.capnp'), workerdConfig(bundles));
	let worker = await startWorkerd(binary);
	try {
		return await eachFile(bundles, deadline, async ({file}, limitMs) => {
			let result;
			try {
				const response = await fetch(`${worker.url}/run`, {method: 'POST', body: JSON.stringify({file, grep, testTimeout: TEST_TIMEOUT_MS}), signal: AbortSignal.timeout(limitMs)});
				let buffered = '';
				const decoder = new TextDecoder();
				for await (const chunk of response.body) {
					buffered += decoder.decode(chunk, {stream: true});
					let newline;
					while ((newline = buffered.indexOf('\n')) !== -1) {
						const message = JSON.parse(buffered.slice(0, newline));
						buffered = buffered.slice(newline + 1);
						if (message.test) printResult(message.test);
						if (message.file) result = message.file;
						if (message.error) result = brokenFile(file, `the worker failed: ${message.error}`);
					}
				}
				result ??= brokenFile(file, `the worker answered ${response.status} without a result`);
			} catch (error) {
				result = brokenFile(file, `no result from workerd: ${error.message}`);
				// A file that hung leaves work in the isolate: the next file gets a fresh workerd.
				killGroup(worker.child);
				worker = await startWorkerd(binary);
			}
			return result;
		});
	} finally {
		killGroup(worker.child);
	}
}

// ------------------------------------------------------------------------------------------------
// Firefox: a static server on 127.0.0.1 serves the page and the bundles (another origin than the
// fault server's, as in a real app: CORS applies); each file gets a fresh page load, then its
// __run is called over BiDi and its result comes back as the call's value.

const PAGE = `<!doctype html><meta charset="utf-8"><title>surefetch runtime suite</title>
<script type="module">
const mark = {passed: '✓', failed: '✗', skipped: '↓', todo: '↓'};
window.__runFile = async (bundle, options) => {
	globalThis.__surefetchProvide = options.provide;
	const module = await import(bundle);
	const result = await module.__run({...options, onResult: (r) => console.log('@@result ' + JSON.stringify(r))});
	return JSON.stringify(result);
};
window.__ready = true;
</script>`;

async function serveStatic(dir) {
	const server = http.createServer((request, response) => {
		const path = new URL(request.url, 'http://x').pathname;
		if (path === '/' || path === '/index.html') {
			response.writeHead(200, {'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store'});
			return void response.end(PAGE);
		}
		const file = join(dir, path);
		if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
			response.writeHead(404);
			return void response.end();
		}
		response.writeHead(200, {'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store'});
		response.end(readFileSync(file));
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {server, url: `http://127.0.0.1:${server.address().port}`};
}

/** Chromium as Firefox is driven: a page, a function called in it, its console (playwright-core, no download). */
async function launchChromium({executablePath, onConsole}) {
	const {chromium} = await import('playwright-core');
	const browser = await chromium.launch({executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']});
	const page = await browser.newPage();
	page.on('console', (message) => onConsole(message.text(), message.type()));
	return {
		version: `chromium ${browser.version()}`,
		navigate: (url) => page.goto(url, {timeout: 60_000}),
		call: (fn, args, {timeoutMs}) => Promise.race([
			page.evaluate(([source, values]) => (0, eval)(source)(...values), [fn, args.map((value) => JSON.stringify(value))]).then((value) => (typeof value === 'string' ? JSON.parse(value) : value)),
			new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
		]),
		close: () => browser.close(),
	};
}

async function runBrowser(executablePath, bundles, provide, deadline) {
	const launch = runtime === 'firefox' ? (await import('./firefox.mjs')).launchFirefox : launchChromium;
	const site = await serveStatic(work);
	const firefox = await launch({
		executablePath,
		track,
		onConsole(text) {
			if (text.startsWith('@@result ')) printResult(JSON.parse(text.slice(9)));
			else console.log(`    [console] ${text}`);
		},
	}).catch((error) => {
		site.server.close();
		throw error;
	});
	console.log(`(${firefox.version})`);
	try {
		return await eachFile(bundles, deadline, async ({file, bundle}, limitMs) => {
			try {
				await firefox.navigate(`${site.url}/index.html?file=${encodeURIComponent(file)}`);
				const bundleUrl = `${site.url}/${relative(work, bundle)}`;
				const result = await firefox.call('(bundle, options) => window.__runFile(JSON.parse(bundle), JSON.parse(options))', [bundleUrl, {file, grep, testTimeout: TEST_TIMEOUT_MS, provide}], {timeoutMs: limitMs});
				return typeof result === 'object' && result !== null ? result : brokenFile(file, 'the page gave no result');
			} catch (error) {
				await firefox.navigate('about:blank').catch(() => {});
				return brokenFile(file, `no result from ${runtime}: ${error.message}`);
			}
		});
	} finally {
		await firefox.close();
		site.server.close();
	}
}

// ------------------------------------------------------------------------------------------------

function writeReport(results, extra) {
	const tests = results.flatMap((f) => f.assertionResults);
	const count = (status) => tests.filter((t) => t.status === status).length;
	const report = {
		numTotalTestSuites: results.length,
		numPassedTestSuites: results.filter((f) => f.status === 'passed').length,
		numFailedTestSuites: results.filter((f) => f.status === 'failed').length,
		numPendingTestSuites: 0,
		numTotalTests: tests.length,
		numPassedTests: count('passed'),
		numFailedTests: count('failed'),
		numPendingTests: count('skipped'),
		numTodoTests: count('todo'),
		startTime: started,
		success: results.every((f) => f.status === 'passed') && tests.length > 0 && count('skipped') + count('todo') === 0,
		testResults: results.map((f) => ({...f, name: join(root, f.name)})),
		surefetchRuntime: extra,
	};
	mkdirSync(dirname(join(root, reportPath)), {recursive: true});
	writeFileSync(join(root, reportPath), JSON.stringify(report, null, 1));
	return report;
}

/** The committed classification table of this runtime (cases/probe.test.ts holds the runtime to it); null while probe.mjs writes a new one. */
function probeTable() {
	if (process.env.SUREFETCH_PROBE_WRITE === '1') return null;
	const path = join(root, 'test', 'runtimes', 'probe', `${runtime}.json`);
	return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {rows: []};
}

async function main() {
	let binary;
	try {
		binary = ensureRuntime(runtime);
	} catch (error) {
		console.error(`✗ ${runtime} cannot start: ${error.message}`);
		writeReport([brokenFile(`(${runtime})`, `${runtime} cannot start: ${error.message}`)], {runtime});
		process.exitCode = 1;
		return;
	}
	const version = versionOf(runtime, binary);
	console.log(`${runtime}: ${version} (${binary})`);
	ensureBuild();
	rmSync(work, {recursive: true, force: true});
	for (const dir of ['bundles', 'results', 'plans']) mkdirSync(join(work, dir), {recursive: true});
	const files = testFiles();
	const isHost = (file) => file.endsWith('.host.test.ts');
	const bundles = await bundleTests(runtime, files.filter((f) => !isHost(f)), join(work, 'bundles'));
	const hostBundles = await bundleTests('node', files.filter(isHost), join(work, 'host-bundles'));
	const fault = await startFaultServer({host: '127.0.0.1'});
	const provide = {fault: {url: fault.url, tlsUrl: fault.tlsUrl, refusedUrl: fault.refusedUrl}, probeTable: probeTable()};
	const deadline = started + RUNTIME_LIMIT_MS;
	let results;
	try {
		if (runtime === 'bun' || runtime === 'deno' || runtime === 'node') results = await runProcesses(binary, bundles, provide, deadline);
		else if (runtime === 'workerd') results = await runWorkerd(binary, bundles, provide, deadline);
		else results = await runBrowser(binary, bundles, provide, deadline);
		if (hostBundles.length > 0) results.push(...await runProcesses(process.execPath, hostBundles, {...provide, runtimeBinary: binary, root}, deadline, 'node'));
	} catch (error) {
		results = [brokenFile(`(${runtime})`, `${runtime} could not run the suite: ${error.message}\n${howToGet(runtime)}`)];
	} finally {
		await fault.close();
	}
	const report = writeReport(results, {runtime, version, seconds: (Date.now() - started) / 1000});
	const artifacts = Object.fromEntries(results.filter((f) => f.artifacts).map((f) => [f.name, f.artifacts]));
	writeFileSync(join(work, 'artifacts.json'), JSON.stringify({runtime, version, artifacts}, null, 1));
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	console.log(`\n${runtime} (${version}): ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped in ${results.length} files, ${seconds} s`);
	for (const file of results.filter((f) => f.status === 'failed')) {
		console.log(`✗ ${file.name}${file.message ? `: ${file.message.split('\n').slice(0, 12).join('\n    ')}` : ''}`);
		for (const t of file.assertionResults.filter((a) => a.status === 'failed')) console.log(`    ✗ ${t.fullName}: ${(t.failureMessages[0] ?? '').split('\n')[0].replace(/\x1b\[[0-9;]*m/g, '')}`);
	}
	if (!report.success) process.exitCode = 1;
}

await main();
