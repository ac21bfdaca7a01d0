// What run.mjs and profile.mjs share: the build, the node binary, the server process, a client process.

import {spawn, spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {cpSync, existsSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

/**
 * Command-line options of the bench scripts, on node:util's parseArgs. `spec` maps each option to
 * its default: a string or number default takes a value (numbers are converted), `false` is a flag.
 * Unknown options and missing values throw.
 */
export function readOptions(argv, spec) {
	const options = {};
	for (const [name, fallback] of Object.entries(spec)) options[name] = {type: fallback === false ? 'boolean' : 'string'};
	const {values} = parseArgs({args: argv, options, strict: true, allowPositionals: false});
	const out = {};
	for (const [name, fallback] of Object.entries(spec)) {
		const given = values[name];
		out[name] = given === undefined ? fallback : typeof fallback === 'number' ? Number(given) : given;
	}
	return out;
}

export const root = fileURLToPath(new URL('../..', import.meta.url));
const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/** `--node 22` / `--node 24.21.0`: a pinned binary of the test suite (downloaded once); else a path. */
export function resolveNode(node) {
	if (!/^v?\d+(\.\d+\.\d+)?$/.test(node)) {
		if (!existsSync(node)) throw new Error(`--node ${node}: no such file`);
		return node;
	}
	const result = spawnSync(process.execPath, [here('../support/ensure-node.mjs'), node], {cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']});
	if (result.status !== 0) throw new Error(`could not get Node ${node} (see above)`);
	return result.stdout.trim();
}

export function nodeInfo(node) {
	const result = spawnSync(node, ['-p', 'JSON.stringify({version: process.version, v8: process.versions.v8, undici: process.versions.undici})'], {encoding: 'utf8'});
	if (result.status !== 0) throw new Error(`${node} does not run: ${result.stderr}`);
	return JSON.parse(result.stdout);
}

/** `npm run build` (tsup), run with the Node running this script. */
export function build() {
	process.stderr.write('\n=== build (tsup)\n');
	const result = spawnSync(process.execPath, [here('../../node_modules/tsup/dist/cli-default.js')], {cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000});
	if (result.status !== 0) throw new Error('the build failed');
}

export function requireDist() {
	if (!existsSync(here('../../dist/index.js'))) throw new Error('dist/index.js is missing: run npm run build');
}

/** A short hash of the built .js files of a dist directory. */
export function distHash(dir = join(root, 'dist')) {
	const hash = createHash('sha256');
	for (const name of readdirSync(dir).filter((n) => n.endsWith('.js')).sort()) hash.update(name).update(readFileSync(join(dir, name)));
	return hash.digest('hex').slice(0, 12);
}

/**
 * Copies dist/ to node_modules/.cache/surefetch-bench/dist-<pid>/ and returns its path: every client
 * of a run imports the same build even if dist/ is rebuilt meanwhile. (Inside node_modules, so `ky`,
 * `abort-controller-x` and `undici` still resolve from the project.) `remove()` deletes it.
 */
export function snapshotDist() {
	const dir = join(root, 'node_modules', '.cache', 'surefetch-bench', `dist-${process.pid}`);
	rmSync(dir, {recursive: true, force: true});
	cpSync(join(root, 'dist'), dir, {recursive: true});
	return {dir, hash: distHash(dir), remove: () => rmSync(dir, {recursive: true, force: true})};
}

/** What was measured: the commit, whether src/ differs from it, and how busy the machine was. */
export function provenance() {
	const git = (...args) => spawnSync('git', args, {cwd: root, encoding: 'utf8'});
	const head = git('log', '-1', '--format=%h %cI %s');
	const dirty = git('status', '--porcelain', '--', 'src');
	return {
		commit: head.status === 0 ? head.stdout.trim().slice(0, 160) : 'unknown',
		srcDirty: dirty.status === 0 ? dirty.stdout.trim().length > 0 : undefined,
		loadavg: os.loadavg(),
	};
}

/**
 * Starts server.mjs in its own process, always on the Node running this script (the same server
 * for every client Node). Resolves with {child, base, stop()}.
 */
export function startServer() {
	const child = spawn(process.execPath, [here('./server.mjs')], {cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
	const stop = () => {
		if (child.connected) child.disconnect();
		if (child.exitCode === null) child.kill();
	};
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			stop();
			reject(new Error('the bench server did not start within 60 s'));
		}, 60_000);
		child.once('message', ({port}) => {
			clearTimeout(timer);
			resolve({child, base: `http://127.0.0.1:${port}`, stop});
		});
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`the bench server exited (${code})`));
		});
	});
}

/**
 * What a tool that runs clients in rounds needs: `--rounds` checked, the client Node (`--node`), a
 * build (unless `--no-build`) snapshotted for the run, and the server. `stop()` ends the server and
 * removes the snapshot.
 */
export async function prepare(args) {
	if (!Number.isInteger(args.rounds) || args.rounds < 1 || args.rounds > 20) throw new Error('--rounds must be 1..20');
	const node = resolveNode(args.node);
	if (!args['no-build']) build();
	requireDist();
	const snapshot = snapshotDist();
	let server;
	try {
		server = await startServer();
	} catch (error) {
		snapshot.remove();
		throw error;
	}
	return {node, snapshot, server, stop: () => {
		server.stop();
		snapshot.remove();
	}};
}

/**
 * CPU time (clock ticks) of the whole machine, of this process, of its waited-for children and of
 * the server, from /proc (Linux; undefined elsewhere). The difference of two snapshots around a
 * client run tells how much CPU *other* processes took meanwhile: a busy neighbour shows up there.
 */
export function cpuSnapshot(serverPid) {
	try {
		const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
		const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
		const statOf = (pid) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop().split(' ').map(Number);
		const self = statOf('self'); // after "pid (comm) ": [state, ppid, ..., utime = [11], stime, cutime, cstime]
		const server = serverPid ? statOf(serverPid) : undefined;
		return {
			busy: user + nice + system + irq + softirq + steal,
			ours: self[11] + self[12] + self[13] + self[14] + (server ? server[11] + server[12] : 0),
		};
	} catch {
		return undefined;
	}
}

/** % of one core used by other processes between two snapshots over `seconds`. */
export function otherCpuPercent(before, after, seconds) {
	if (!before || !after || seconds <= 0) return undefined;
	const ticks = 100; // USER_HZ
	const other = (after.busy - before.busy) - (after.ours - before.ours);
	return Math.max(0, (100 * other) / ticks / seconds);
}

/** Runs one client process (client.mjs) to its end; resolves with its JSON line or {ok: false, error}. */
export function runClient(node, config, nodeFlags = []) {
	return spawnClient(node, config, nodeFlags).result;
}

/**
 * runClient's process, with everything it printed: a V8 flag such as --trace-gc-nvp writes to the
 * same stdout, so the result is the last line that is a JSON object.
 */
export function spawnClient(node, config, nodeFlags = []) {
	const limit = (config.durationMs ?? 0) + (config.warmupMs ?? 0) + 120_000 + (config.case === 'heap' ? 300_000 : 0);
	const run = spawnSync(node, [...nodeFlags, here('./client.mjs'), JSON.stringify(config)], {cwd: root, encoding: 'utf8', timeout: limit, killSignal: 'SIGKILL', maxBuffer: 256 * 1024 * 1024});
	const stdout = run.stdout ?? '';
	const line = stdout.trim().split('\n').findLast((text) => text.startsWith('{'));
	try {
		if (line) return {result: JSON.parse(line), stdout};
	} catch {}
	const why = run.error ? String(run.error.message) : `exit ${run.status ?? run.signal}`;
	return {result: {ok: false, error: `${why}: ${(run.stderr ?? '').trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`}, stdout};
}
