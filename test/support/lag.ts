// How long this event loop could not run a timer: a busy machine (or a busy test process) delays
// every callback, surefetch's deadline timers included. Tests that bound how late something may
// happen add the time the loop was held up in that window to their margin: the bound then holds on
// a loaded machine and still catches a deadline that fires late while the loop was free.
// Works in Node and in browsers (only setInterval and performance.now).

export interface LagMonitor {
	/** ms the loop was held up (beyond its tick) between two performance.now() instants. */
	within(from: number, to: number): number;
	/** The longest single hold-up seen so far, in ms. */
	readonly worst: number;
	stop(): void;
}

const TICK = 10;
/** Hold-ups shorter than this are the timer's own jitter, not a stall. */
const JITTER = 4;
/** At most this many stalls are kept (a 2-minute test at a 10 ms tick has at most 12,000). */
const KEEP = 50_000;

export function watchLag(): LagMonitor {
	// Stalls as [start, end] pairs: the loop should have ticked at `start` and ticked at `end`.
	const stalls: number[] = [];
	let last = performance.now();
	let worst = 0;
	const timer = setInterval(() => {
		const at = performance.now();
		const late = at - last - TICK;
		if (late > JITTER) {
			if (stalls.length >= 2 * KEEP) stalls.splice(0, 2);
			stalls.push(last + TICK, at);
			worst = Math.max(worst, late);
		}
		last = at;
	}, TICK);
	(timer as {unref?: () => void}).unref?.();
	return {
		within(from, to) {
			let total = 0;
			const overlap = (start: number, end: number) => Math.max(0, Math.min(end, to) - Math.max(start, from));
			for (let i = 0; i < stalls.length; i += 2) total += overlap(stalls[i]!, stalls[i + 1]!);
			// A stall still going on (the loop has not ticked since): it counts up to now.
			const now = performance.now();
			if (now - last - TICK > JITTER) total += overlap(last + TICK, now);
			return total;
		},
		get worst() {
			return worst;
		},
		stop() {
			clearInterval(timer);
		},
	};
}
