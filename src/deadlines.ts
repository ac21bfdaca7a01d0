// Deadlines and the signal tree. Every deadline lives here: `total` on the operation node,
// `queue`, `headers`, `attempt` and `idle` on the attempt node (`connect` is the Node transport's).
//
// A node aborts its children with its own reason and removes itself from its parent when it is
// released, so a long-lived parent (a client, a caller's signal) never collects one listener per
// request. Each deadline aborts with a reason object of its own (`DeadlineReason`), and the runtime
// rejects with exactly `signal.reason`, so "which deadline fired" is an identity check.

export type DeadlinePhase = 'queue' | 'connect' | 'headers' | 'idle' | 'attempt' | 'total';

/** The abort reason of a surefetch deadline. Not an Error: it is a marker, never shown to a caller. */
export class DeadlineReason {
	constructor(readonly phase: DeadlinePhase, readonly timeout: number) {}
}

/** The abort reason when the caller's signal or `client.close()` stopped a request. */
export class CallerAbort {
	constructor(readonly source: 'signal' | 'client', readonly reason: unknown) {}
}

type Timer = ReturnType<typeof setTimeout>;

export const now: () => number = typeof performance !== 'undefined' && typeof performance.now === 'function'
	? () => performance.now()
	: () => Date.now();

/**
 * Deadline timers never keep a Node process alive on their own: the socket (or the queue that waits
 * for one) does. A script therefore exits as soon as its last request settles.
 */
export function startTimer(callback: () => void, ms: number): Timer {
	const timer = setTimeout(callback, ms);
	(timer as {unref?: () => void}).unref?.();
	return timer;
}

export class SignalNode {
	/** Made on first use of `signal`: most operation nodes never need one (creating one costs ~14 µs on Node 20). */
	private controller: AbortController | undefined = undefined;
	private abortReason: unknown = undefined;
	private isAborted = false;
	/** Called once, synchronously, when this node aborts (before its children). */
	onAbort: ((reason: unknown) => void) | undefined = undefined;
	private parent: SignalNode | undefined = undefined;
	// Children: an operation node almost always has exactly one (its attempt), so the first lives in
	// a field and a Set is only made for more (hedges, the lifecycle root).
	private child: SignalNode | undefined = undefined;
	private more: Set<SignalNode> | undefined = undefined;
	// Timers by phase; a node rarely runs more than two, so a small array of [phase, timer] pairs.
	private timers: Array<DeadlinePhase | Timer> | undefined = undefined;
	private released = false;

	constructor(parent?: SignalNode) {
		if (!parent) return;
		if (parent.aborted) {
			this.abort(parent.reason);
			return;
		}
		this.parent = parent;
		parent.adopt(this);
	}

	get signal(): AbortSignal {
		if (!this.controller) {
			this.controller = new AbortController();
			if (this.isAborted) this.controller.abort(this.abortReason);
		}
		return this.controller.signal;
	}

	get aborted(): boolean {
		return this.isAborted;
	}

	get reason(): unknown {
		return this.abortReason;
	}

	/** Number of live children (for tests and `close()`). */
	get size(): number {
		return (this.child ? 1 : 0) + (this.more?.size ?? 0);
	}

	abort(reason: unknown): void {
		if (this.isAborted) return;
		this.isAborted = true;
		this.abortReason = reason;
		this.clearTimers();
		this.controller?.abort(reason);
		const hook = this.onAbort;
		this.onAbort = undefined;
		hook?.(reason);
		// Snapshots: an aborting child may release itself and leave this node.
		const {child, more} = this;
		child?.abort(reason);
		if (more) for (const other of [...more]) other.abort(reason);
	}

	/** Arms (or re-arms) the deadline of a phase; `false`/undefined leaves it off. */
	arm(phase: DeadlinePhase, ms: number | false | undefined): void {
		if (ms === false || ms === undefined || this.aborted || this.released) return;
		this.disarm(phase);
		(this.timers ??= []).push(phase, startTimer(() => this.abort(new DeadlineReason(phase, ms)), ms));
	}

	disarm(phase: DeadlinePhase): void {
		const timers = this.timers;
		if (!timers) return;
		const at = timers.indexOf(phase);
		if (at === -1) return;
		clearTimeout(timers[at + 1] as Timer);
		timers.splice(at, 2);
	}

	/** Clears every timer and leaves the parent. Idempotent; children are released too. */
	release(): void {
		if (this.released) return;
		this.released = true;
		this.clearTimers();
		this.onAbort = undefined;
		const {child, more} = this;
		this.child = undefined;
		this.more = undefined;
		child?.release();
		if (more) for (const other of more) other.release();
		this.parent?.disown(this);
		this.parent = undefined;
	}

	private adopt(child: SignalNode): void {
		if (!this.child) this.child = child;
		else (this.more ??= new Set()).add(child);
	}

	private disown(child: SignalNode): void {
		if (this.child === child) this.child = undefined;
		else this.more?.delete(child);
	}

	private clearTimers(): void {
		const timers = this.timers;
		if (!timers) return;
		for (let i = 1; i < timers.length; i += 2) clearTimeout(timers[i] as Timer);
		this.timers = undefined;
	}
}

/**
 * The idle deadline: the longest wait for the next body chunk. It only runs while a read is
 * waiting on the network, so a caller who reads slowly is not mistaken for a stalled server. One
 * timer per idle period, not one per chunk: the timer checks how long the current read has waited.
 */
export class IdleWatch {
	private timer: Timer | undefined;
	private readSince = -1;

	constructor(private readonly node: SignalNode, private readonly ms: number) {}

	readStarted(): void {
		this.readSince = now();
		if (this.timer === undefined) this.schedule(this.ms);
	}

	readEnded(): void {
		this.readSince = -1;
	}

	stop(): void {
		if (this.timer !== undefined) clearTimeout(this.timer);
		this.timer = undefined;
		this.readSince = -1;
	}

	private schedule(ms: number): void {
		this.timer = startTimer(() => this.check(), ms);
	}

	private check(): void {
		this.timer = undefined;
		if (this.readSince < 0) return; // nobody is waiting on the network
		const waited = now() - this.readSince;
		if (waited >= this.ms - 1) this.node.abort(new DeadlineReason('idle', this.ms));
		else this.schedule(this.ms - waited);
	}
}

// ---------------------------------------------------------------------------------------------
// Links to signals we do not own (the caller's per-request signal, the client's lifetime signal).
// One listener per external signal, whatever the number of requests using it, removed as soon as
// the last of them settles. `AbortSignal.any` is avoided on purpose: Node 20 retains every
// dependent signal and Node 22 removes them in super-linear time.

export interface LinkTarget {
	onExternalAbort(reason: unknown): void;
}

const links = new WeakMap<AbortSignal, Set<LinkTarget>>();

function onExternalAbort(this: AbortSignal): void {
	const targets = links.get(this);
	links.delete(this);
	this.removeEventListener('abort', onExternalAbort);
	if (targets) for (const target of targets) target.onExternalAbort(this.reason);
}

/** Links `target` to `signal`. The caller must check `signal.aborted` first. */
export function linkSignal(signal: AbortSignal, target: LinkTarget): void {
	let targets = links.get(signal);
	if (!targets) {
		targets = new Set();
		links.set(signal, targets);
		signal.addEventListener('abort', onExternalAbort);
	}
	targets.add(target);
}

export function unlinkSignal(signal: AbortSignal, target: LinkTarget): void {
	const targets = links.get(signal);
	if (!targets || !targets.delete(target) || targets.size > 0) return;
	links.delete(signal);
	signal.removeEventListener('abort', onExternalAbort);
}
