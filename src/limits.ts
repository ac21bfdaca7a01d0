// Concurrency, per-origin concurrency and rate: one FIFO order per client family. A slot is taken
// at dispatch and given back when the attempt ends (body read, cancelled, failed, or abandoned to a
// deadline). A queued request that is aborted or hits its queue deadline leaves the queue at once.
//
// Waiters are kept in one FIFO per origin, stamped with a global sequence number: the next to go is
// the oldest head among origins that have a free slot. Dispatch costs O(origins), not O(queue), so a
// long queue behind a full origin does not slow every release down.

import type {SignalNode} from './deadlines.js';
import {now} from './deadlines.js';
import type {LimitOptions} from './options.js';

interface Waiter {
	seq: number;
	origin: string;
	node: SignalNode;
	resolve: (release: () => void) => void;
	/** Set when the waiter left the queue (dispatched or aborted); removal from its FIFO is lazy. */
	gone: boolean;
}

/** One origin's waiters, oldest first; `head` skips the ones already gone. */
interface OriginQueue {
	waiters: Waiter[];
	head: number;
	active: number;
}

export class Limits {
	private readonly concurrency: number;
	private readonly perHost: number;
	private readonly rate: {requests: number; per: number} | undefined;
	private inFlight = 0;
	private waiting = 0;
	private seq = 0;
	private readonly origins = new Map<string, OriginQueue>();
	/** Dispatch times of the last `rate.requests` dispatches (a ring). */
	private readonly stamps: number[] = [];
	private stampAt = 0;
	private rateTimer: ReturnType<typeof setTimeout> | undefined;
	private pumpScheduled = false;

	constructor(options: LimitOptions) {
		this.concurrency = options.concurrency ?? Number.POSITIVE_INFINITY;
		this.perHost = options.perHost ?? Number.POSITIVE_INFINITY;
		this.rate = options.rate;
	}

	/** Queued requests (for tests and the playground). */
	get queued(): number {
		return this.waiting;
	}

	get active(): number {
		return this.inFlight;
	}

	/** Resolves with a release function once a slot is free; rejects with the node's reason if it aborts first. */
	acquire(url: string, node: SignalNode): Promise<() => void> {
		const origin = originOf(url);
		const queue = this.queueOf(origin);
		if (this.waiting === 0 && this.canDispatch(queue)) return Promise.resolve(this.take(queue));
		return new Promise((resolve, reject) => {
			const waiter: Waiter = {seq: this.seq++, origin, node, resolve, gone: false};
			queue.waiters.push(waiter);
			this.waiting++;
			node.onAbort = (reason) => {
				this.leave(waiter);
				reject(reason);
			};
			this.schedulePump();
		});
	}

	/** A slot now, or undefined: for hedges, which must never wait behind other requests. */
	tryAcquire(url: string): (() => void) | undefined {
		const queue = this.queueOf(originOf(url));
		return this.waiting === 0 && this.canDispatch(queue) ? this.take(queue) : undefined;
	}

	private queueOf(origin: string): OriginQueue {
		let queue = this.origins.get(origin);
		if (!queue) {
			queue = {waiters: [], head: 0, active: 0};
			this.origins.set(origin, queue);
		}
		return queue;
	}

	private canDispatch(queue: OriginQueue): boolean {
		return this.inFlight < this.concurrency && queue.active < this.perHost && this.rateWait() <= 0;
	}

	/** ms until the rate allows another dispatch (<= 0: now). */
	private rateWait(): number {
		if (!this.rate || this.stamps.length < this.rate.requests) return 0;
		return this.stamps[this.stampAt]! + this.rate.per - now();
	}

	private take(queue: OriginQueue): () => void {
		this.inFlight++;
		queue.active++;
		if (this.rate) {
			if (this.stamps.length < this.rate.requests) this.stamps.push(now());
			else {
				this.stamps[this.stampAt] = now();
				this.stampAt = (this.stampAt + 1) % this.rate.requests;
			}
		}
		let released = false;
		return () => {
			if (released) return;
			released = true;
			this.inFlight--;
			queue.active--;
			this.pump();
		};
	}

	/** An aborted waiter: counted out now, dropped from its FIFO when it reaches the head. */
	private leave(waiter: Waiter): void {
		if (waiter.gone) return;
		waiter.gone = true;
		this.waiting--;
		const queue = this.origins.get(waiter.origin);
		if (queue) this.headOf(queue);
		if (this.waiting === 0) this.clearRateTimer();
	}

	/** The oldest waiter still queued for an origin (compacting the FIFO as it goes). */
	private headOf(queue: OriginQueue): Waiter | undefined {
		while (queue.head < queue.waiters.length && queue.waiters[queue.head]!.gone) queue.head++;
		if (queue.head === queue.waiters.length) {
			queue.waiters.length = 0;
			queue.head = 0;
			return undefined;
		}
		if (queue.head > 1024 && queue.head * 2 > queue.waiters.length) {
			queue.waiters.splice(0, queue.head);
			queue.head = 0;
		}
		return queue.waiters[queue.head];
	}

	private schedulePump(): void {
		if (this.pumpScheduled) return;
		this.pumpScheduled = true;
		queueMicrotask(() => {
			this.pumpScheduled = false;
			this.pump();
		});
	}

	/** Dispatches in FIFO order; an origin at its perHost limit does not hold back other origins. */
	private pump(): void {
		while (this.waiting > 0) {
			if (this.inFlight >= this.concurrency) return;
			const wait = this.rateWait();
			if (wait > 0) return this.armRateTimer(wait);
			let next: Waiter | undefined;
			let nextQueue: OriginQueue | undefined;
			for (const queue of this.origins.values()) {
				if (queue.active >= this.perHost) continue;
				const head = this.headOf(queue);
				if (head && (!next || head.seq < next.seq)) {
					next = head;
					nextQueue = queue;
				}
			}
			if (!next || !nextQueue) return; // every origin with waiters is full
			next.gone = true;
			this.waiting--;
			nextQueue.head++;
			next.node.onAbort = undefined;
			next.resolve(this.take(nextQueue));
		}
		this.clearRateTimer();
		// Origins with nothing queued and nothing in flight are forgotten.
		for (const [origin, queue] of this.origins) if (queue.active === 0 && queue.head >= queue.waiters.length) this.origins.delete(origin);
	}

	// Not unref'd: a request waiting for the rate is real pending work that must keep a script alive.
	private armRateTimer(ms: number): void {
		if (this.rateTimer !== undefined) return;
		this.rateTimer = setTimeout(() => {
			this.rateTimer = undefined;
			this.pump();
		}, Math.max(1, Math.ceil(ms)));
	}

	private clearRateTimer(): void {
		if (this.rateTimer === undefined) return;
		clearTimeout(this.rateTimer);
		this.rateTimer = undefined;
	}
}

export function originOf(url: string): string {
	try {
		return new URL(url).origin;
	} catch {
		return url;
	}
}
