// The README's runtimes × faults table is generated (node test/runtimes/probe.mjs) from the probe
// tables committed in test/runtimes/probe/; it must say what those files say, and each file must
// cover every fault the probe knows. The tables themselves are held live in each runtime by
// test/runtimes/cases/probe.test.ts.
import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {readmeTable, readmeTableInReadme, RUNTIMES, tables} from '../runtimes/probe/readme.mjs';

describe('the README\'s runtimes table', () => {
	it('is the one the committed probe tables make (run node test/runtimes/probe.mjs after changing them)', () => {
		expect(readmeTableInReadme()).toBe(readmeTable());
	});

	it('has a table for every runtime, each with the same faults in the same order', () => {
		const all = tables() as Array<{id: string; rows: Array<{fault: string}>}>;
		expect(all.map((t) => t.id)).toEqual((RUNTIMES as string[][]).map(([id]) => id));
		const faults = all[0]!.rows.map((r) => r.fault);
		for (const t of all) expect(t.rows.map((r) => r.fault), t.id).toEqual(faults);
		const probe = readFileSync(new URL('../runtimes/probe/probe.ts', import.meta.url), 'utf8');
		for (const fault of faults) expect(probe, fault).toContain(`name: '${fault}'`);
	});
});
