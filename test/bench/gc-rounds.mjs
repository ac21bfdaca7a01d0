#!/usr/bin/env node
// Why one round of a big-body case is fast and the next slow: each client reads the body N times
// in a row in its own process, and every read is printed with a * when a major GC began inside it.
//
//   node test/bench/gc-rounds.mjs [--node <path|22|24|26>] [--case records] [--clients fetch,ky,surefetch] [--reads 16] [--rounds 2] [--no-build]
//
// The first two reads of each process (start-up, first heap growth) are left out of the medians.

import {prepare, readOptions, runClient} from './harness.mjs';
import {median} from './report.mjs';

const ms = (value) => (Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'n/a');

const args = readOptions(process.argv.slice(2), {node: process.execPath, case: 'records', clients: 'fetch,ky,surefetch', reads: 16, rounds: 2, 'no-build': false});
if (!['gbk', 'utf8', 'records'].includes(args.case)) throw new Error('--case must be gbk, utf8 or records');
if (!Number.isInteger(args.reads) || args.reads < 3 || args.reads > 200) throw new Error('--reads must be 3..200');
const {node, snapshot, server, stop} = await prepare(args);
try {
	for (let round = 1; round <= args.rounds; round++) {
		for (const client of args.clients.split(',')) {
			const result = runClient(node, {client, case: args.case, base: server.base, dist: snapshot.dir, reads: args.reads});
			if (!result.ok) throw new Error(`${client}: ${result.error}`);
			const kept = result.reads.slice(2);
			const withGc = kept.filter((r) => r.majorGcs > 0).map((r) => r.ms);
			const without = kept.filter((r) => r.majorGcs === 0).map((r) => r.ms);
			const gcMs = kept.reduce((sum, r) => sum + r.majorGcMs, 0) / kept.length;
			console.log(`round ${round} ${client.padEnd(14)} ${kept.map((r) => `${r.ms.toFixed(0)}${r.majorGcs ? '*' : ''}`).join(' ')}`);
			console.log(`${' '.repeat(23)}median ${ms(median(withGc))} with a major GC inside (${withGc.length} reads), ${ms(median(without))} without (${without.length}); major GC pause ${gcMs.toFixed(0)} ms per read`);
		}
	}
} finally {
	stop();
}
