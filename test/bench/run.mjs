#!/usr/bin/env node
// `npm run bench`: builds surefetch, starts the bench server (its own process), then measures every
// client in its own process, case by case, in interleaved rounds (A B C ... A B C ...), and writes
// the medians to test/bench/results/<node-version>.{md,svg,json}. See test/bench/README.md.
//
//   node test/bench/run.mjs                       clients run on the Node running this script
//   node test/bench/run.mjs --node 22             the pinned Node 22 (test/support/ensure-node.mjs)
//   node test/bench/run.mjs --node /path/to/node  any node binary
//   options: --rounds 3  --duration 2500 (ms, cases a-c)  --cases small,c64,...  --clients fetch,ky,...
//            --quick (1 round, short windows: a smoke test)  --no-build
//   env: BENCH_HEAP_REQUESTS (requests of the heap case, default 20000)

import {mkdirSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import {CLIENTS} from './clients.mjs';
import {build, cpuSnapshot, readOptions, distHash, nodeInfo, otherCpuPercent, provenance, requireDist, resolveNode, runClient, snapshotDist, startServer} from './harness.mjs';
import {CASE_ORDER, renderMarkdown, renderSvg} from './report.mjs';

function parseArgs(argv) {
	if (argv.includes('--help') || argv.includes('-h')) {
		console.log(readmeHint());
		process.exit(0);
	}
	const args = readOptions(argv, {node: process.execPath, rounds: 3, duration: 2500, cases: '', clients: '', quick: false, 'no-build': false});
	args.build = !args['no-build'];
	args.cases = args.cases ? args.cases.split(',') : undefined;
	args.clients = args.clients ? args.clients.split(',') : undefined;
	if (!Number.isInteger(args.rounds) || args.rounds < 1 || args.rounds > 20) throw new Error('--rounds must be 1..20');
	if (!Number.isFinite(args.duration) || args.duration < 200 || args.duration > 60_000) throw new Error('--duration must be 200..60000 ms');
	return args;
}

function readmeHint() {
	return 'usage: node test/bench/run.mjs [--node <path|22|24>] [--rounds N] [--duration ms] [--cases a,b] [--clients a,b] [--quick] [--no-build]\nsee test/bench/README.md';
}

function fmt(n, digits = 0) {
	return Number(n).toFixed(digits);
}

async function main() {
	const args = parseArgs(process.argv.slice(2));
	const node = resolveNode(args.node);
	const info = nodeInfo(node);
	const clients = args.clients ?? CLIENTS;
	for (const client of clients) if (!CLIENTS.includes(client)) throw new Error(`unknown client ${client} (${CLIENTS.join(', ')})`);
	const cases = args.cases ?? CASE_ORDER;
	for (const name of cases) if (!CASE_ORDER.includes(name)) throw new Error(`unknown case ${name} (${CASE_ORDER.join(', ')})`);

	const quick = args.quick;
	const rounds = quick ? 1 : args.rounds;
	const heapRequests = Number(process.env.BENCH_HEAP_REQUESTS ?? (quick ? 2_000 : 20_000));
	if (!Number.isInteger(heapRequests) || heapRequests < 100 || heapRequests > 1_000_000) throw new Error('BENCH_HEAP_REQUESTS must be 100..1000000');
	// Windows: cases a-c `duration` (3 rounds of 2.5 s by default), the 10 MB cases 1.5 s.
	const windows = {
		small: {durationMs: quick ? 500 : args.duration, warmupMs: quick ? 200 : 750},
		c64: {durationMs: quick ? 500 : args.duration, warmupMs: quick ? 200 : 750},
		mib: {durationMs: quick ? 500 : args.duration, warmupMs: quick ? 200 : 750},
		gbk: {durationMs: quick ? 500 : Math.min(args.duration, 1500), warmupMs: quick ? 100 : 400},
		utf8: {durationMs: quick ? 500 : Math.min(args.duration, 1500), warmupMs: quick ? 100 : 400},
		records: {durationMs: quick ? 500 : Math.min(args.duration, 1500), warmupMs: quick ? 100 : 400},
	};

	const started = Date.now();
	if (args.build) build();
	requireDist();
	const atStart = provenance();
	const snapshot = snapshotDist();

	const server = await startServer().catch((error) => {
		snapshot.remove();
		throw error;
	});
	process.stderr.write(`\n=== bench: clients on Node ${info.version} (${node}), server on Node ${process.version} at ${server.base}\n`);
	const runs = []; // {case, client, round, ...result}
	try {
		for (const name of cases) {
			// rss: the 200 MiB read, with raw fetch's arrayBuffer() as a second baseline. heap: one round.
			const caseClients = name === 'rss' ? clients.flatMap((c) => (c === 'fetch' ? ['fetch', 'fetch-arrayBuffer'] : [c])) : clients;
			const caseRounds = name === 'heap' ? 1 : name === 'rss' ? Math.min(rounds, 2) : rounds;
			for (let round = 1; round <= caseRounds; round++) {
				for (const client of caseClients) {
					const config = {client, case: name, base: server.base, dist: snapshot.dir, ...windows[name], heapRequests};
					const flags = name === 'heap' || name === 'rss' ? ['--expose-gc'] : [];
					// A run during which other processes took more than a quarter of a core is run again
					// (at most twice); the least disturbed one is kept.
					let t0;
					let result;
					let otherCpu;
					let repeats = 0;
					for (let attempt = 0; attempt < 3; attempt++) {
						const start = Date.now();
						const cpu0 = cpuSnapshot(server.child.pid);
						const candidate = runClient(node, config, flags);
						const other = otherCpuPercent(cpu0, cpuSnapshot(server.child.pid), (Date.now() - start) / 1000);
						if (result === undefined || (other ?? 0) < (otherCpu ?? 0)) {
							result = candidate;
							otherCpu = other;
							t0 = start;
						}
						if (!(other > 25)) break;
						repeats++;
						process.stderr.write(`${name.padEnd(5)} round ${round}/${caseRounds} ${client.padEnd(17)} disturbed (other processes: ${fmt(other)}% of a core), running it again\n`);
					}
					runs.push({case: name, client, round, otherCpu, repeats, ...result});
					const what = !result.ok ? `ERROR ${result.error}`
						: name === 'rss' ? `peak RSS ${fmt(result.rssPeak / 2 ** 20)} MB (+${fmt(result.rssGrowth / 2 ** 20)})`
						: name === 'heap' ? `heap ${fmt(result.heapBefore / 2 ** 20, 1)} -> ${fmt(result.heapAfter / 2 ** 20, 1)} MB after ${result.requests}`
						: `${fmt(result.rps)} req/s, ${fmt(result.cpuUsPerReq)} µs CPU/req${result.correct ? '' : ', WRONG TEXT'}`;
					const noisy = otherCpu !== undefined && otherCpu > 20 ? `, ⚠ other processes used ${fmt(otherCpu)}% of a core` : '';
					process.stderr.write(`${name.padEnd(5)} round ${round}/${caseRounds} ${client.padEnd(17)} ${what} (${fmt((Date.now() - t0) / 1000, 1)} s${noisy})\n`);
				}
			}
		}
	} finally {
		server.stop();
		snapshot.remove();
	}
	const atEnd = provenance();

	const cpus = os.cpus();
	const meta = {
		node: info.version,
		v8: info.v8,
		undici: info.undici,
		nodePath: node,
		serverNode: process.version,
		cpu: cpus[0]?.model?.trim() ?? 'unknown',
		cores: cpus.length,
		ramGiB: os.totalmem() / 2 ** 30,
		platform: `${os.platform()} ${os.release()} ${os.arch()}`,
		date: new Date().toISOString(),
		rounds,
		windows,
		heapRequests,
		seconds: (Date.now() - started) / 1000,
		clients,
		cases,
		quick,
		commit: atStart.commit,
		srcDirty: atStart.srcDirty,
		built: args.build,
		distHash: snapshot.hash,
		// dist/ rebuilt by someone else during the run: the run still used its snapshot.
		distRebuiltDuringRun: distHash() !== snapshot.hash,
		commitAtEnd: atEnd.commit,
		loadavgStart: atStart.loadavg,
		loadavgEnd: atEnd.loadavg,
	};
	const outDir = new URL('./results/', import.meta.url);
	mkdirSync(outDir, {recursive: true});
	const base = quick ? `${info.version.slice(1)}-quick` : info.version.slice(1);
	const data = {meta, runs};
	const markdown = renderMarkdown(data);
	writeFileSync(new URL(`${base}.json`, outDir), `${JSON.stringify(data, null, '\t')}\n`);
	writeFileSync(new URL(`${base}.md`, outDir), markdown);
	writeFileSync(new URL(`${base}.svg`, outDir), renderSvg(data));
	process.stdout.write(`\n${markdown}\n`);
	process.stderr.write(`\nwrote test/bench/results/${base}.md, .svg and .json (${fmt(meta.seconds)} s)\n`);
}

main().catch((error) => {
	console.error(error?.stack ?? error);
	process.exit(1);
});
