#!/usr/bin/env node
// What garbage collection costs one request of case (b) (1 KB JSON, 64 in flight), per client:
// each client makes a fixed number of requests in its own process under V8's `--trace-gc-nvp`,
// and the trace's pauses and byte counts are summed and divided by the requests.
//
//   node test/bench/gc-per-request.mjs [--node <path|22|24|26>] [--clients fetch,ky,surefetch] [--requests 12000] [--rounds 2] [--no-build]
//
// profile.mjs's "(garbage collector)" row is a sampling profiler's guess and differs between clients
// by more than the GC does: compare GC here.

import {nodeInfo, prepare, readOptions, spawnClient} from './harness.mjs';

const args = readOptions(process.argv.slice(2), {node: process.execPath, clients: 'fetch,ky,surefetch', requests: 12_000, rounds: 2, 'no-build': false});
if (!Number.isInteger(args.requests) || args.requests < 1000 || args.requests > 200_000) throw new Error('--requests must be 1000..200000');
const {node, snapshot, server, stop} = await prepare(args);

/** One client process: its result line and the GC trace summed. */
function measure(client) {
	// No warm-up: every request of the process counts, and so does every GC, start-up's included (a 60 s window caps it).
	const config = {client, case: 'c64', base: server.base, dist: snapshot.dir, durationMs: 60_000, warmupMs: 0, maxRequests: args.requests};
	const {result, stdout} = spawnClient(node, config, ['--trace-gc-nvp']);
	if (result.ok === false) throw new Error(`${client}: ${result.error}`);
	const sum = {minor: 0, minorMs: 0, major: 0, majorMs: 0, allocated: 0, promoted: 0};
	for (const line of stdout.split('\n')) {
		if (!line.includes('pause=')) continue;
		const field = Object.fromEntries(line.trim().split(/\s+/).map((pair) => pair.split('=')));
		const pause = Number(field.pause);
		if (field.gc === 's') {
			sum.minor++;
			sum.minorMs += pause;
		} else {
			sum.major++;
			sum.majorMs += pause;
		}
		sum.allocated += Number(field.allocated ?? 0);
		sum.promoted += Number(field.promoted ?? 0);
	}
	return {result, requests: result.requests + 1, ...sum}; // + the first request, checked in full
}

try {
	console.log(`Node ${nodeInfo(node).version}: case c64, ${args.requests} requests per client process, --trace-gc-nvp`);
	console.log('client           req/s   CPU µs/req   minor GCs (µs/req)   major GCs (µs/req)   allocated KB/req   promoted KB/req');
	for (let round = 1; round <= args.rounds; round++) {
		for (const client of args.clients.split(',')) {
			const m = measure(client);
			const perRequest = (ms) => ((ms * 1000) / m.requests).toFixed(1);
			const kb = (bytes) => (bytes / m.requests / 1024).toFixed(1);
			console.log(`${client.padEnd(14)} ${m.result.rps.toFixed(0).padStart(7)} ${m.result.cpuUsPerReq.toFixed(0).padStart(12)}   ${String(m.minor).padStart(9)} (${perRequest(m.minorMs)})   ${String(m.major).padStart(9)} (${perRequest(m.majorMs)})   ${kb(m.allocated).padStart(16)}   ${kb(m.promoted).padStart(15)}`);
		}
	}
} finally {
	stop();
}
