// The deadline scheduler (one timer for every deadline): deadlines fire in time order, a cancelled
// one never fires and leaves the heap at once, and no timer is left when no deadline is.
import {createHook} from 'node:async_hooks';
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {after, cancel, type Due} from '../../src/deadlines.js';

const liveTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('deadline scheduler', () => {
	it('any schedule of deadlines and cancels: the live ones fire in order, on time, the cancelled ones never', async () => {
		await fc.assert(fc.asyncProperty(fc.array(fc.record({ms: fc.integer({min: 0, max: 120}), cancelAt: fc.option(fc.integer({min: 0, max: 120}), {nil: undefined})}), {minLength: 1, maxLength: 60}), async (plan) => {
			const fired: Array<{index: number; late: number}> = [];
			const started = performance.now();
			const dues: Due[] = plan.map(({ms}, index) => after(ms, () => fired.push({index, late: performance.now() - started - ms})));
			const cancelled = new Set<number>();
			for (const [index, {cancelAt}] of plan.entries()) {
				if (cancelAt === undefined) continue;
				setTimeout(() => {
					if (!fired.some((f) => f.index === index)) cancelled.add(index);
					cancel(dues[index]);
				}, cancelAt);
			}
			await new Promise((resolve) => setTimeout(resolve, 200));
			const firedIndexes = fired.map((f) => f.index);
			for (const index of cancelled) expect(firedIndexes).not.toContain(index);
			for (const [index] of plan.entries()) if (!cancelled.has(index)) expect(firedIndexes).toContain(index);
			// In order of their due time (each is `now() + ms` when it was set: a busy machine can set a
			// later one with a smaller `ms` after the clock moved on), and never early.
			const times = fired.map((f) => dues[f.index]!.at);
			expect(times).toEqual([...times].sort((a, b) => a - b));
			for (const f of fired) expect(f.late).toBeGreaterThanOrEqual(-1);
			expect(dues.every((due) => due.i === -1)).toBe(true);
		}), {numRuns: 25, seed: 20261129});
	}, 60_000);

	it('the one timer is unref\'d and gone once no deadline is left', async () => {
		const timers = new Set<number>();
		const hook = createHook({
			init: (id, type) => void (type === 'Timeout' && timers.add(id)),
			destroy: (id) => void timers.delete(id),
		}).enable();
		try {
			const before = liveTimers();
			const dues = Array.from({length: 1000}, (_, i) => after(60_000 + i, () => {}));
			expect(liveTimers()).toBe(before); // unref'd: not counted as keeping the process
			for (const due of dues) cancel(due);
			await new Promise((resolve) => setImmediate(resolve));
			expect(timers.size).toBe(0);
		} finally {
			hook.disable();
		}
	});
});
