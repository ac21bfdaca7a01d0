// Deadlines and the signal tree. Every deadline lives here: `total` on the operation's node,
// `queue`, `headers`, `attempt` and `idle` on each attempt's node (`connect` is the Node transport's).
//
// A node aborts its children with its own reason and leaves its parent when released, so a
// long-lived parent (a client, a caller's signal) never collects one listener per request. Each
// deadline aborts with a reason object of its own (`DeadlineReason`): "which deadline fired" is an
// identity check. And no runtime is trusted to honour an abort: every wait on the outside world is
// a `race` with a node, which settles the moment the node aborts, whatever the outside does.

export type DeadlinePhase = 'queue' | 'connect' | 'headers' | 'idle' | 'attempt' | 'total';

/** The abort reason of a surefetch deadline. A marker, never shown to a caller. */
export class DeadlineReason {
	constructor(readonly phase: DeadlinePhase, readonly timeout: number) {}
}

/** The abort reason when the caller's signal or `client.close()` stopped a request. */
export class CallerAbort {
	constructor(readonly source: 'signal' | 'client', readonly reason: unknown) {}
}

export const now: () => number = () => performance.now();

// ---------------------------------------------------------------------------------------------
// One timer for every deadline. A setTimeout per deadline (three per request) cost 1-3 µs each on
// Node 22, `unref` included; here a deadline is an entry in a min-heap (each entry knows its
// place, so a cancelled one leaves at once and the heap holds only live deadlines), and one
// unref'd timer waits for the earliest. The timer goes when no deadline is left, so none outlives
// the requests that set it.

/** A scheduled call; `cancel()` it when it is no longer wanted. */
export interface Due {
	at: number;
	fire: (() => void) | undefined;
	/** Its index in the heap (-1 once out). */
	i: number;
}

const heap: Due[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;
let timerAt = Number.POSITIVE_INFINITY;

function place(due: Due, i: number): void {
	heap[i] = due;
	due.i = i;
}

/** Moves the entry at `i` up or down to where it belongs. */
function settle(i: number): void {
	const due = heap[i]!;
	while (i > 0) {
		const parent = (i - 1) >> 1;
		if (heap[parent]!.at <= due.at) break;
		place(heap[parent]!, i);
		i = parent;
	}
	for (;;) {
		const l = 2 * i + 1;
		let m = l < heap.length && heap[l]!.at < due.at ? l : -1;
		if (l + 1 < heap.length && heap[l + 1]!.at < (m < 0 ? due.at : heap[l]!.at)) m = l + 1;
		if (m < 0) break;
		place(heap[m]!, i);
		i = m;
	}
	place(due, i);
}

function remove(due: Due): void {
	const last = heap.pop()!;
	if (last !== due) {
		place(last, due.i);
		settle(due.i);
	}
	due.i = -1;
}

/** Calls `fire` in `ms` (unless cancelled first). Never keeps a Node process alive by itself. */
export function after(ms: number, fire: () => void): Due {
	const due: Due = {at: now() + ms, fire, i: heap.length};
	heap.push(due);
	settle(due.i);
	if (due.at < timerAt) arm(due.at);
	return due;
}

export function cancel(due: Due | undefined): void {
	if (!due?.fire) return;
	due.fire = undefined;
	remove(due);
	if (heap.length === 0) arm(Number.POSITIVE_INFINITY);
}

function arm(at: number): void {
	clearTimeout(timer);
	timer = undefined;
	timerAt = at;
	if (at === Number.POSITIVE_INFINITY) return;
	timer = setTimeout(tick, Math.max(0, at - now()));
	(timer as {unref?: () => void}).unref?.();
}

function tick(): void {
	timer = undefined;
	timerAt = Number.POSITIVE_INFINITY;
	// A timer may fire up to a millisecond before performance.now() says it is due.
	const t = now() + 1;
	while (heap.length > 0 && heap[0]!.at <= t) {
		const due = heap[0]!;
		const {fire} = due;
		due.fire = undefined;
		remove(due);
		fire!();
	}
	if (heap.length > 0 && timer === undefined) arm(heap[0]!.at);
}

const noop = () => {};

export class SignalNode {
	/** Made on first use of `signal`: most operation nodes never need one. */
	private controller: AbortController | undefined = undefined;
	private abortReason: unknown = undefined;
	private isAborted = false;
	private parent: SignalNode | undefined = undefined;
	// An operation node almost always has one child (its attempt): the first lives in a field.
	private child: SignalNode | undefined = undefined;
	private more: Set<SignalNode> | undefined = undefined;
	/** [phase, due, phase, due, ...]: a node rarely runs more than two. */
	private timers: Array<DeadlinePhase | Due> | undefined = undefined;
	/** Called once, synchronously, when the node aborts (before its children). */
	private watchers: Array<((reason: unknown) => void) | undefined> | undefined = undefined;
	private released = false;

	constructor(parent?: SignalNode) {
		if (!parent) return;
		if (parent.isAborted) {
			this.abort(parent.abortReason);
			return;
		}
		this.parent = parent;
		if (!parent.child) parent.child = this;
		else (parent.more ??= new Set()).add(this);
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

	/** Live children (for tests and `close()`). */
	get size(): number {
		return (this.child ? 1 : 0) + (this.more?.size ?? 0);
	}

	/** Calls `fn(reason)` when the node aborts. The returned `off()` is true when it was still waiting (it will not be called now). */
	watch(fn: (reason: unknown) => void): () => boolean {
		const list = (this.watchers ??= []);
		const at = list.push(fn) - 1;
		return () => {
			if (list[at] !== fn) return false;
			list[at] = undefined;
			return true;
		};
	}

	abort(reason: unknown): void {
		if (this.isAborted) return;
		this.isAborted = true;
		this.abortReason = reason;
		this.clearTimers();
		const watchers = this.watchers;
		this.watchers = undefined;
		if (watchers) {
			for (let i = 0; i < watchers.length; i++) {
				const fn = watchers[i];
				watchers[i] = undefined;
				fn?.(reason);
			}
		}
		this.controller?.abort(reason);
		const {child, more} = this;
		child?.abort(reason);
		if (more) for (const other of [...more]) other.abort(reason);
	}

	/** Arms (or re-arms) the deadline of a phase; `false`/undefined leaves it off. */
	arm(phase: DeadlinePhase, ms: number | false | undefined): void {
		if (ms === false || ms === undefined || this.isAborted || this.released) return;
		this.disarm(phase);
		(this.timers ??= []).push(phase, after(ms, () => this.abort(new DeadlineReason(phase, ms))));
	}

	disarm(phase: DeadlinePhase): void {
		const timers = this.timers;
		const at = timers ? timers.indexOf(phase) : -1;
		if (at < 0) return;
		cancel(timers![at + 1] as Due);
		timers!.splice(at, 2);
	}

	/** Clears every timer and watcher and leaves the parent; children are released too. Idempotent. */
	release(): void {
		if (this.released) return;
		this.released = true;
		this.clearTimers();
		this.watchers = undefined;
		const {child, more} = this;
		this.child = undefined;
		this.more = undefined;
		child?.release();
		if (more) for (const other of more) other.release();
		const parent = this.parent;
		this.parent = undefined;
		if (parent?.child === this) parent.child = undefined;
		else parent?.more?.delete(this);
	}

	private clearTimers(): void {
		const timers = this.timers;
		if (!timers) return;
		for (let i = 1; i < timers.length; i += 2) cancel(timers[i] as Due);
		this.timers = undefined;
	}
}

/**
 * Settles like `promise`, or rejects with the node's reason the moment the node aborts, whatever
 * `promise` does later (a runtime or a custom fetch that ignores its signal). A value that comes
 * after the abort goes to `late` (to cancel a body nobody will read).
 */
export function race<T>(node: SignalNode, promise: PromiseLike<T>, late?: (value: T) => void): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		if (node.aborted) {
			reject(node.reason);
			promise.then(late, noop);
			return;
		}
		const off = node.watch(reject);
		promise.then((value) => {
			if (off()) resolve(value);
			else late?.(value);
		}, (error: unknown) => {
			if (off()) reject(error);
		});
	});
}

/**
 * The idle deadline: the longest wait for the next body chunk. It runs only while a read waits on
 * the network, so a caller who reads slowly is not taken for a stalled server. One timer per idle
 * period, not one per chunk: the timer checks how long the current read has waited.
 */
export class IdleWatch {
	private due: Due | undefined;
	private readSince = -1;

	constructor(private readonly node: SignalNode, private readonly ms: number) {}

	readStarted(): void {
		this.readSince = now();
		if (!this.due?.fire) this.due = after(this.ms, () => this.check());
	}

	readEnded(): void {
		this.readSince = -1;
	}

	stop(): void {
		cancel(this.due);
		this.readSince = -1;
	}

	private check(): void {
		if (this.readSince < 0) return; // nobody is waiting on the network
		const waited = now() - this.readSince;
		if (waited >= this.ms - 1) this.node.abort(new DeadlineReason('idle', this.ms));
		else this.due = after(this.ms - waited, () => this.check());
	}
}

// Links to signals we do not own (a caller's per-request signal, the client's lifetime signal):
// one listener per external signal whatever the number of requests on it, removed when the last
// of them settles. `AbortSignal.any` is avoided on purpose: some Node lines retain every dependent
// signal or remove them in super-linear time.

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

/** Links `target` to `signal`. The caller checks `signal.aborted` first. */
export function linkSignal(signal: AbortSignal, target: LinkTarget): void {
	let targets = links.get(signal);
	if (!targets) {
		links.set(signal, (targets = new Set()));
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
