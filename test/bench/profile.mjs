#!/usr/bin/env node
// Where does a surefetch request spend its CPU? Runs case (b) (1 KB JSON at concurrency 64) with
// surefetch's defaults in a child process under `--cpu-prof`, then reads the .cpuprofile itself:
// self samples summed per function (name + url:line), the top N printed and grouped into
// surefetch / ky / undici / other. surefetch's frames (dist/*.js) are mapped back to src/*.ts:line
// through the build's source maps.
//
//   node test/bench/profile.mjs [--node <path|22|24>] [--client surefetch] [--case c64] [--duration 6000]
//                               [--interval 250] [--top 20] [--keep] [--no-build]
//
// Only samples inside the measured window count (not start-up or warm-up) when the profile's
// clock and the client's hrtime agree, which they do on Linux; otherwise the whole profile counts
// and the output says so.

import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, relative, resolve} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {build, nodeInfo, readOptions, provenance, requireDist, resolveNode, root, runClient, snapshotDist, startServer} from './harness.mjs';

function parseArgs(argv) {
	const args = readOptions(argv, {node: process.execPath, client: 'surefetch', case: 'c64', duration: 6000, interval: 250, top: 20, keep: false, 'no-build': false});
	args.build = !args['no-build'];
	if (!['small', 'c64', 'mib', 'gbk', 'utf8', 'records'].includes(args.case)) throw new Error('--case must be small, c64, mib, gbk, utf8 or records');
	if (!Number.isFinite(args.duration) || args.duration < 500 || args.duration > 120_000) throw new Error('--duration must be 500..120000 ms');
	if (!Number.isInteger(args.interval) || args.interval < 50 || args.interval > 10_000) throw new Error('--interval must be 50..10000 µs');
	if (!Number.isInteger(args.top) || args.top < 1 || args.top > 500) throw new Error('--top must be 1..500');
	return args;
}

// --- source maps (v3), just enough to map a generated line:column to a source line -------------

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUE = new Map([...BASE64].map((c, i) => [c, i]));

/** One segment list per generated line: [generatedColumn, sourceIndex, sourceLine, sourceColumn]. */
function decodeMappings(mappings) {
	const lines = [];
	let sourceIndex = 0;
	let sourceLine = 0;
	let sourceColumn = 0;
	for (const lineText of mappings.split(';')) {
		const segments = [];
		let column = 0;
		for (const segmentText of lineText.split(',')) {
			if (!segmentText) continue;
			const values = [];
			let value = 0;
			let shift = 0;
			for (const char of segmentText) {
				const digit = BASE64_VALUE.get(char);
				if (digit === undefined) throw new Error(`bad source map character ${char}`);
				value += (digit & 31) << shift;
				if (digit & 32) shift += 5;
				else {
					values.push(value & 1 ? -(value >>> 1) : value >>> 1);
					value = 0;
					shift = 0;
				}
			}
			column += values[0];
			if (values.length >= 4) {
				sourceIndex += values[1];
				sourceLine += values[2];
				sourceColumn += values[3];
				segments.push([column, sourceIndex, sourceLine, sourceColumn]);
			}
		}
		lines.push(segments);
	}
	return lines;
}

const maps = new Map();
/** file:///…/dist/x.js, 0-based line and column -> 'src/y.ts:LINE' (1-based), or undefined. */
function originalPosition(url, line, column) {
	if (!maps.has(url)) {
		let map;
		try {
			const file = fileURLToPath(url);
			const raw = JSON.parse(readFileSync(`${file}.map`, 'utf8'));
			// The snapshot's maps name sources relative to dist/ (../src/x.ts).
			const dir = join(root, 'dist');
			map = {lines: decodeMappings(raw.mappings), sources: raw.sources.map((s) => relative(root, resolve(dir, raw.sourceRoot ?? '', s)))};
		} catch {
			map = undefined;
		}
		maps.set(url, map);
	}
	const map = maps.get(url);
	const segments = map?.lines[line];
	if (!segments?.length) return undefined;
	let best;
	for (const segment of segments) {
		if (segment[0] <= column) best = segment;
		else break;
	}
	best ??= segments[0];
	return `${map.sources[best[1]]}:${best[2] + 1}`;
}

// --- the profile ---------------------------------------------------------------------------------

let distUrl = pathToFileURL(join(root, 'dist')).href + '/';

function groupOf(url) {
	if (url.startsWith(distUrl)) return 'surefetch';
	if (url.includes('/node_modules/ky/')) return 'ky';
	if (url.startsWith('node:internal/deps/undici') || url.includes('/node_modules/undici/')) return 'undici';
	return 'other';
}

function shortUrl(url) {
	if (!url) return '';
	if (url.startsWith(distUrl)) return `dist/${url.slice(distUrl.length)}`;
	if (url.startsWith('file://')) return relative(root, fileURLToPath(url));
	return url;
}

function analyse(profile, window) {
	const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
	const parent = new Map();
	for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
	// Absolute sample times: startTime + running sum of timeDeltas (µs, the monotonic clock).
	let time = profile.startTime;
	let inWindow = 0;
	const picked = [];
	for (let i = 0; i < profile.samples.length; i++) {
		time += profile.timeDeltas[i] ?? 0;
		if (window && time >= window[0] && time <= window[1]) {
			inWindow++;
			picked.push(profile.samples[i]);
		}
	}
	const usedWindow = window !== undefined && inWindow > 0.5 * ((window[1] - window[0]) / ((profile.endTime - profile.startTime) / profile.samples.length));
	const samples = usedWindow ? picked : profile.samples;
	const span = usedWindow ? window[1] - window[0] : profile.endTime - profile.startTime;
	const usPerSample = span / samples.length;

	const self = new Map(); // key -> {count, group, name, where}
	// Each sample charged to the innermost surefetch or ky frame on its stack: a library's own code
	// plus the runtime work it calls directly (not through the other library).
	const nearest = new Map();
	const groupSelf = {surefetch: 0, ky: 0, undici: 0, other: 0};
	const groupInclusive = {surefetch: 0, ky: 0, undici: 0};
	let idle = 0;
	for (const id of samples) {
		const node = nodes.get(id);
		const {functionName, url, lineNumber, columnNumber} = node.callFrame;
		if (functionName === '(idle)') idle++;
		const group = groupOf(url);
		const key = `${functionName}\u0000${url}\u0000${lineNumber}`;
		let entry = self.get(key);
		if (!entry) {
			const name = functionName || '(anonymous)';
			const mapped = group === 'surefetch' ? originalPosition(url, lineNumber, columnNumber) : undefined;
			const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
			entry = {count: 0, group, name, where, mapped};
			self.set(key, entry);
		}
		entry.count++;
		groupSelf[group]++;
		// Inclusive: is any frame of this group on the stack?
		const seen = new Set();
		let charged = false;
		for (let at = id; at !== undefined; at = parent.get(at)) {
			const frame = nodes.get(at).callFrame;
			const g = groupOf(frame.url);
			if (g !== 'other' && !seen.has(g)) {
				seen.add(g);
				groupInclusive[g]++;
			}
			if (!charged && (g === 'surefetch' || g === 'ky')) {
				charged = true;
				const frameKey = `${frame.functionName}\u0000${frame.url}\u0000${frame.lineNumber}`;
				let item = nearest.get(frameKey);
				if (!item) {
					const mapped = g === 'surefetch' ? originalPosition(frame.url, frame.lineNumber, frame.columnNumber) : undefined;
					item = {count: 0, self: 0, group: g, name: frame.functionName || '(anonymous)', where: `${shortUrl(frame.url)}:${frame.lineNumber + 1}`, mapped};
					nearest.set(frameKey, item);
				}
				item.count++;
				if (at === id) item.self++;
			}
		}
	}
	// Hot lines of surefetch's functions, from V8's per-line ticks (whole profile, not only the
	// window). A line outside the file (code inlined from another script) is left out.
	for (const node of profile.nodes) {
		const {functionName, url, lineNumber} = node.callFrame;
		if (!node.positionTicks || groupOf(url) !== 'surefetch') continue;
		const entry = self.get(`${functionName}\u0000${url}\u0000${lineNumber}`);
		if (!entry) continue;
		entry.lines ??= new Map();
		for (const {line, ticks} of node.positionTicks) {
			const at = originalPosition(url, line - 1, 0);
			if (at) entry.lines.set(at, (entry.lines.get(at) ?? 0) + ticks);
		}
	}
	return {entries: [...self.values()].sort((a, b) => b.count - a.count), nearest: [...nearest.values()].sort((a, b) => b.count - a.count), total: samples.length, idle, usPerSample, groupSelf, groupInclusive, usedWindow};
}

function pct(count, total) {
	return `${((100 * count) / total).toFixed(1)}%`.padStart(6);
}

async function main() {
	const args = parseArgs(process.argv.slice(2));
	const node = resolveNode(args.node);
	const info = nodeInfo(node);
	if (args.build) build();
	requireDist();
	const code = provenance();
	const snapshot = snapshotDist();
	distUrl = pathToFileURL(snapshot.dir).href + '/';
	const dir = mkdtempSync(join(tmpdir(), 'surefetch-prof-'));
	let server;
	let result;
	let file;
	let analysis;
	try {
		server = await startServer();
		process.stderr.write(`\n=== profiling case ${args.case}, client ${args.client}, Node ${info.version}, ${args.duration} ms, sampling every ${args.interval} µs\n`);
		result = runClient(node, {client: args.client, case: args.case, base: server.base, dist: snapshot.dir, durationMs: args.duration, warmupMs: 1000}, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${args.interval}`]);
		server.stop();
		if (!result.ok) throw new Error(`the client failed: ${result.error}`);
		file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
		if (!file) throw new Error(`no .cpuprofile in ${dir}`);
		analysis = analyse(JSON.parse(readFileSync(join(dir, file), 'utf8')), result.windowUs);
	} finally {
		server?.stop();
		snapshot.remove(); // after the analysis: it reads the snapshot's source maps
	}
	const {entries, total, idle, usPerSample, groupSelf, groupInclusive} = analysis;
	const busy = total - idle;

	const out = [];
	out.push(`surefetch profile: case ${args.case === 'c64' ? '(b) 1 KB JSON, concurrency 64' : args.case}, client ${args.client}, Node ${info.version}`);
	out.push(`code: commit ${code.commit.slice(0, 100)}${code.srcDirty ? ' + uncommitted changes in src/' : ''}; load average at start ${code.loadavg.map((v) => v.toFixed(2)).join(' ')}`);
	out.push(`${result.requests} requests in ${result.seconds.toFixed(2)} s = ${Math.round(result.rps)} req/s, ${Math.round(result.cpuUsPerReq)} µs CPU/req (profiling on)`);
	out.push(`${total} samples of ~${usPerSample.toFixed(0)} µs ${analysis.usedWindow ? 'in the measured window' : '(whole process: the window could not be matched)'}; idle ${pct(idle, total).trim()}; percentages below are of all samples`);
	out.push('');
	out.push('self time by group (inclusive: a frame of the group anywhere on the stack)');
	for (const group of ['surefetch', 'ky', 'undici', 'other']) {
		const inclusive = groupInclusive[group] === undefined ? '' : `   inclusive ${pct(groupInclusive[group], total)}`;
		out.push(`  ${group.padEnd(10)} self ${pct(groupSelf[group], total)}  (${((groupSelf[group] * usPerSample) / result.requests).toFixed(1).padStart(6)} µs/req)${inclusive}`);
	}
	out.push('');
	out.push(`top ${args.top} functions by self time`);
	out.push(`  ${'self'.padStart(6)}  ${'µs/req'.padStart(6)}  ${'group'.padEnd(9)}  function  (location; surefetch: src)`);
	for (const entry of entries.slice(0, args.top)) {
		const perReq = ((entry.count * usPerSample) / result.requests).toFixed(1);
		const where = entry.mapped ? `${entry.mapped}  [${entry.where}]` : entry.where;
		out.push(`  ${pct(entry.count, total)}  ${perReq.padStart(6)}  ${entry.group.padEnd(9)}  ${entry.name}  ${where ? `(${where})` : ''}`);
	}
	const ours = entries.filter((e) => e.group === 'surefetch');
	out.push('');
	out.push(`surefetch's own code, top ${Math.min(15, ours.length)} by self time (${pct(groupSelf.surefetch, total).trim()} of samples, ${pct(groupSelf.surefetch, busy).trim()} of busy ones)`);
	for (const entry of ours.slice(0, 15)) {
		const lines = [...(entry.lines ?? [])].sort((a, b) => b[1] - a[1]);
		const sum = lines.reduce((n, [, ticks]) => n + ticks, 0);
		const hot = lines.slice(0, 3).map(([at, ticks]) => `${at} ${Math.round((100 * ticks) / sum)}%`).join(', ');
		out.push(`  ${pct(entry.count, total)}  ${((entry.count * usPerSample) / result.requests).toFixed(1).padStart(6)} µs/req  ${entry.name}  ${entry.mapped ?? entry.where}${hot ? `   hot lines: ${hot}` : ''}`);
	}
	const charged = analysis.nearest.filter((e) => e.group === 'surefetch');
	out.push('');
	out.push('surefetch frames charged with the runtime work they call directly (each sample goes to the innermost');
	out.push('surefetch or ky frame on its stack, so ky and what ky calls are not in these numbers)');
	for (const entry of charged.slice(0, 15)) {
		out.push(`  ${pct(entry.count, total)}  ${((entry.count * usPerSample) / result.requests).toFixed(1).padStart(6)} µs/req  (self ${pct(entry.self, total).trim()})  ${entry.name}  ${entry.mapped ?? entry.where}`);
	}
	console.log(out.join('\n'));
	if (args.keep) console.log(`\nprofile kept: ${join(dir, file)}`);
	else rmSync(dir, {recursive: true, force: true});
}

main().catch((error) => {
	console.error(error?.stack ?? error);
	process.exit(1);
});
