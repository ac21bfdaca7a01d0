// The classification table of this runtime, live: every fault of the fault server through the
// runtime's raw fetch and through surefetch (test/runtimes/probe/probe.ts), held to the table
// committed in test/runtimes/probe/<runtime>.json, from which the README's table is made. So the
// README says what this runtime does today, and a runtime upgrade that changes an answer fails here.
// `node test/runtimes/probe.mjs` rewrites the tables (the driver then provides no table to hold to).
import {describe, expect, inject, it} from 'vitest';
import {fault, runtime} from '../../support/fault.js';
import {FAULTS, probe, type ProbeRow} from '../probe/probe.js';

declare module 'vitest' {
	export interface ProvidedContext {
		/** The committed table of this runtime; null while node test/runtimes/probe.mjs writes a new one. */
		probeTable: {rows: ProbeRow[]} | null;
	}
}

/** Runtimes that name the reason of a network failure: 'unknown' is never their most specific answer. */
const NAMES_CAUSES = new Set(['node', 'bun', 'deno']);

describe(`the ${runtime} classification table`, () => {
	it('every fault: surefetch answers as the committed table says, never with a raw error', async () => {
		const rows = await probe(fault);
		const committed = inject('probeTable');
		if (committed === null) {
			// Writing a new table (node test/runtimes/probe.mjs): the rows are the file's artifact.
			(globalThis as {__surefetchArtifacts?: Record<string, unknown>}).__surefetchArtifacts = {probe: rows};
			return;
		}
		expect(rows.map((r) => r.fault), 'the committed table lists every fault (run node test/runtimes/probe.mjs)').toEqual(committed.rows.map((r) => r.fault));
		const differ = rows.filter((row, i) => JSON.stringify(row.surefetch) !== JSON.stringify(committed.rows[i]!.surefetch));
		expect(differ.map((r) => `${r.fault}: ${JSON.stringify(r.surefetch)} (raw: ${JSON.stringify(r.raw)})`)).toEqual([]);
		for (const row of rows) expect(row.surefetch.kind, row.fault).not.toMatch(/^raw /);
	}, 120_000);

	if (NAMES_CAUSES.has(runtime)) {
		it(`${runtime} names the reason of every network failure: no 'unknown' in its table`, async () => {
			const committed = inject('probeTable');
			const rows = committed?.rows ?? [];
			const unknown = rows.filter((r) => r.surefetch.kind === 'network' && r.surefetch.code === 'unknown').map((r) => `${r.fault}: ${JSON.stringify(r.raw.chain)}`);
			expect(unknown).toEqual([]);
		});
	}

	it('the table has a row for every fault of the probe', () => {
		expect(FAULTS.length).toBeGreaterThan(30);
	});
});
