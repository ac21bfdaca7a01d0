// One client process: measures one client on one case, prints one JSON line on stdout, exits.
//
//   node [--expose-gc] test/bench/client.mjs '{"client":"ky","case":"small","base":"http://127.0.0.1:PORT","durationMs":3000,"warmupMs":500}'
//
// Throughput cases run `concurrency` workers that loop until the deadline (and never past
// `maxRequests`): warm-up first, then the measured window. CPU is process.cpuUsage() of this
// process (user + system, every thread: GC included) over the window, divided by the requests.

import {resolve} from 'node:path';
import {constants, PerformanceObserver} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {BIG_BYTES, expectedGreeting, MIB, record, RECORDS_COUNT} from './bodies.mjs';
import {loadClient} from './clients.mjs';

/** Case -> what one request does, and how a result is checked (cheaply each time, fully once). */
export const CASES = {
	small: {path: '/small', concurrency: 1, op: 'json', quick: (v) => v?.id === 1},
	c64: {path: '/1k', concurrency: 64, op: 'json', quick: (v) => v?.users?.length === 15},
	mib: {path: '/1m', concurrency: 8, op: 'bytes', quick: (v) => v?.byteLength === MIB},
	gbk: {path: '/gbk-10m', concurrency: 1, op: 'gbkJson', quick: (v) => typeof v?.greeting === 'string', full: (v) => v.greeting === expectedGreeting('gbk')},
	utf8: {path: '/utf8-10m', concurrency: 1, op: 'json', quick: (v) => typeof v?.greeting === 'string', full: (v) => v.greeting === expectedGreeting('utf8')},
	records: {path: '/records-12m', concurrency: 1, op: 'json', quick: (v) => v?.length === RECORDS_COUNT && v[RECORDS_COUNT - 1].id === RECORDS_COUNT - 1, full: sameRecords},
};

/** Every record equal to the one the server built (the first result only: the later ones are checked cheaply). */
function sameRecords(value) {
	return value.every((got, i) => {
		const want = record(i);
		return Object.keys(want).every((key) => got[key] === want[key]) && Object.keys(got).length === Object.keys(want).length;
	});
}

const MAX_REQUESTS = 5_000_000;

/** `concurrency` workers, each awaiting one request after another until `until` (ms, performance.now()). */
async function drive(run, concurrency, until, maxRequests) {
	let done = 0;
	let started = 0;
	const worker = async () => {
		while (performance.now() < until && started < maxRequests) {
			started++;
			await run();
			done++;
		}
	};
	await Promise.all(Array.from({length: concurrency}, worker));
	return done;
}

/** One request of the case, its result checked cheaply (and returned). */
const oneRequest = (client, spec, config) => async () => {
	const value = await client[spec.op](config.base + spec.path);
	if (!spec.quick(value)) throw new Error(`unexpected result from ${spec.path}: ${describe(value)}`);
	return value;
};

async function throughput(client, spec, config) {
	let correct = true;
	let sample;
	const run = oneRequest(client, spec, config);
	// The first result is checked in full (for the 10 MB bodies: is the text the known one?).
	const first = await run();
	if (spec.full && !spec.full(first)) {
		correct = false;
		sample = (first.greeting ?? first.find((got, i) => got.note !== record(i).note)?.note ?? '').slice(0, 8);
	}
	await drive(run, spec.concurrency, performance.now() + config.warmupMs, MAX_REQUESTS);
	const cpu0 = process.cpuUsage();
	const t0 = performance.now();
	const windowStart = process.hrtime.bigint(); // the clock of --cpu-prof timestamps (profile.mjs)
	const requests = await drive(run, spec.concurrency, t0 + config.durationMs, config.maxRequests ?? MAX_REQUESTS);
	const windowEnd = process.hrtime.bigint();
	const seconds = (performance.now() - t0) / 1000;
	const cpu = process.cpuUsage(cpu0);
	return {
		requests,
		seconds,
		rps: requests / seconds,
		cpuUsPerReq: (cpu.user + cpu.system) / requests,
		correct,
		windowUs: [Number(windowStart / 1000n), Number(windowEnd / 1000n)],
		...(sample === undefined ? {} : {sample}),
	};
}

/** Peak RSS while reading the 200 MiB body once. */
async function rss(client, config) {
	await client.json(config.base + '/small'); // load the HTTP stack before the baseline
	globalThis.gc?.();
	const before = process.memoryUsage().rss;
	const cpu0 = process.cpuUsage();
	const t0 = performance.now();
	const body = await client.bytes(config.base + '/big');
	const seconds = (performance.now() - t0) / 1000;
	const cpu = process.cpuUsage(cpu0);
	if (body?.byteLength !== BIG_BYTES) throw new Error(`read ${body?.byteLength} bytes, expected ${BIG_BYTES}`);
	const peak = process.resourceUsage().maxRSS * 1024; // KiB on Linux
	return {requests: 1, seconds, rssBefore: before, rssPeak: peak, rssGrowth: peak - before, cpuUsPerReq: cpu.user + cpu.system};
}

/** heapUsed (after full GCs) before and after `heapRequests` small JSON requests at concurrency 8. */
async function heap(client, config) {
	if (typeof globalThis.gc !== 'function') throw new Error('the heap case needs --expose-gc');
	const url = config.base + '/small';
	const run = async () => {
		if ((await client.json(url))?.id !== 1) throw new Error('unexpected body');
	};
	const settle = async () => {
		for (let i = 0; i < 3; i++) {
			await new Promise((resolve) => setTimeout(resolve, 20));
			globalThis.gc();
		}
		return process.memoryUsage().heapUsed;
	};
	await drive(run, 8, Number.POSITIVE_INFINITY, 500);
	const before = await settle();
	const t0 = performance.now();
	// Bounded by count and by a 5-minute guard.
	const requests = await drive(run, 8, t0 + 300_000, config.heapRequests);
	const seconds = (performance.now() - t0) / 1000;
	const after = await settle();
	return {requests, seconds, rps: requests / seconds, heapBefore: before, heapAfter: after, heapGrowth: after - before};
}

/** `config.reads` reads one after another, each timed, with the major GCs that began inside it (gc-rounds.mjs). */
async function reads(client, spec, config) {
	const run = oneRequest(client, spec, config);
	const majors = [];
	const observer = new PerformanceObserver((list) => {
		for (const entry of list.getEntries()) if ((entry.detail?.kind ?? entry.kind) === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push([entry.startTime, entry.duration]);
	});
	observer.observe({entryTypes: ['gc']});
	const spans = [];
	for (let i = 0; i < config.reads; i++) {
		const t0 = performance.now();
		await run();
		spans.push([t0, performance.now()]);
	}
	await new Promise((done) => setTimeout(done, 50)); // the last GC entries are delivered asynchronously
	observer.disconnect();
	return {reads: spans.map(([a, b]) => {
		const inside = majors.filter(([start]) => start >= a && start < b);
		return {ms: b - a, majorGcs: inside.length, majorGcMs: inside.reduce((sum, [, ms]) => sum + ms, 0)};
	})};
}

function describe(value) {
	try {
		return JSON.stringify(value)?.slice(0, 120) ?? String(value);
	} catch {
		return String(value);
	}
}

async function main() {
	const config = JSON.parse(process.argv[2]);
	const client = await loadClient(config.client, {dist: config.dist, ...(config.case === 'rss' ? {maxBodyBytes: false} : {})});
	let result;
	try {
		if (config.case === 'rss') result = await rss(client, config);
		else if (config.case === 'heap') result = await heap(client, config);
		else if (CASES[config.case] && config.reads) result = await reads(client, CASES[config.case], config);
		else if (CASES[config.case]) result = await throughput(client, CASES[config.case], config);
		else throw new Error(`unknown case ${config.case}`);
	} finally {
		await client.close();
	}
	return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	main().then(
		(result) => {
			process.stdout.write(`${JSON.stringify({ok: true, ...result})}\n`, () => process.exit(0));
		},
		(error) => {
			const message = error?.stack ?? String(error);
			process.stdout.write(`${JSON.stringify({ok: false, error: String(error?.message ?? error).split('\n')[0], stack: message})}\n`, () => process.exit(0));
		},
	);
}
