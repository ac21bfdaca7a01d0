// Concurrency, per-origin concurrency and rate: one FIFO queue per client family. A slot is taken
// at dispatch and given back when the attempt ends (body read, cancelled, failed, or abandoned to a
// deadline). A queued request that is aborted or hits its queue deadline leaves the queue at once.

import type {SignalNode} from './deadlines.js';
import {now} from './deadlines.js';
import type {LimitOptions} from './options.js';

interface Waiter {
	origin: string;
	node: SignalNode;
	resolve: (release: () => void) => void;
	reject: (reason: unknown) => void;
}

export class Limits {
	private readonly concurrency: number;
	private readonly perHost: number;
	private readonly rate: {requests: number; per: number} | undefined;
	private inFlight = 0;
	private readonly perOrigin = new Map<string, number>();
	private readonly queue: Waiter[] = [];
	private queueHead = 0;
	/** Dispatch times of the last `rate.requests` dispatches (a ring). */
	private readonly stamps: number[] = [];
	private stampAt = 0;
	private rateTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(options: LimitOptions) {
		this.concurrency = options.concurrency ?? Number.POSITIVE_INFINITY;
		this.perHost = options.perHost ?? Number.POSITIVE_INFINITY;
		this.rate = options.rate;
	}

	/** Queued requests (for tests and the playground). */
	get queued(): number {
		return this.queue.length - this.queueHead;
	}

	get active(): number {
		return this.inFlight;
	}

	/** Resolves with a release function once a slot is free; rejects with the node's reason if it aborts first. */
	acquire(url: string, node: SignalNode): Promise<() => void> {
		const origin = originOf(url);
		if (this.queued === 0 && this.canDispatch(origin)) return Promise.resolve(this.take(origin));
		return new Promise((resolve, reject) => {
			const waiter: Waiter = {origin, node, resolve, reject};
			this.queue.push(waiter);
			node.onAbort = (reason) => {
				this.remove(waiter);
				reject(reason);
			};
			this.schedulePump();
		});
	}

	/** A slot now, or undefined: for hedges, which must never wait behind other requests. */
	tryAcquire(url: string): (() => void) | undefined {
		const origin = originOf(url);
		return this.queued === 0 && this.canDispatch(origin) ? this.take(origin) : undefined;
	}

	private canDispatch(origin: string): boolean {
		if (this.inFlight >= this.concurrency) return false;
		if ((this.perOrigin.get(origin) ?? 0) >= this.perHost) return false;
		return this.rateWait() <= 0;
	}

	/** ms until the rate allows another dispatch (<= 0: now). */
	private rateWait(): number {
		if (!this.rate) return 0;
		if (this.stamps.length < this.rate.requests) return 0;
		const oldest = this.stamps[this.stampAt]!;
		return oldest + this.rate.per - now();
	}

	private take(origin: string): () => void {
		this.inFlight++;
		this.perOrigin.set(origin, (this.perOrigin.get(origin) ?? 0) + 1);
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
			const left = this.perOrigin.get(origin)! - 1;
			if (left === 0) this.perOrigin.delete(origin);
			else this.perOrigin.set(origin, left);
			this.pump();
		};
	}

	private remove(waiter: Waiter): void {
		const index = this.queue.indexOf(waiter, this.queueHead);
		if (index !== -1) this.queue.splice(index, 1);
		this.compact();
	}

	private schedulePump(): void {
		queueMicrotask(() => this.pump());
	}

	/** Dispatches waiters in FIFO order; a waiter whose origin is full does not block other origins. */
	private pump(): void {
		for (let i = this.queueHead; i < this.queue.length;) {
			if (this.inFlight >= this.concurrency) return;
			const wait = this.rateWait();
			if (wait > 0) {
				this.armRateTimer(wait);
				return;
			}
			const waiter = this.queue[i]!;
			if ((this.perOrigin.get(waiter.origin) ?? 0) >= this.perHost) {
				i++;
				continue;
			}
			if (i === this.queueHead) i = ++this.queueHead;
			else this.queue.splice(i, 1); // the next waiter moves into index i
			waiter.node.onAbort = undefined;
			waiter.resolve(this.take(waiter.origin));
		}
		this.compact();
	}

	// Not unref'd: a request waiting for the rate is real pending work that must keep a script alive.
	private armRateTimer(ms: number): void {
		if (this.rateTimer !== undefined) return;
		this.rateTimer = setTimeout(() => {
			this.rateTimer = undefined;
			this.pump();
		}, Math.max(1, Math.ceil(ms)));
	}

	private compact(): void {
		if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
			this.queue.splice(0, this.queueHead);
			this.queueHead = 0;
		}
		if (this.queued === 0) {
			this.queue.length = 0;
			this.queueHead = 0;
			if (this.rateTimer !== undefined) {
				clearTimeout(this.rateTimer);
				this.rateTimer = undefined;
			}
		}
	}
}

export function originOf(url: string): string {
	try {
		return new URL(url).origin;
	} catch {
		return url;
	}
}
