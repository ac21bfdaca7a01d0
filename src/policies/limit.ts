// `limit({concurrency, perHost, rate})`: at most `concurrency` attempts in flight, `perHost` per
// origin, and `rate.requests` dispatches per `rate.per` ms (retries and hedges included). The rest
// wait in one FIFO queue. A slot is taken when an attempt is admitted and given back when the
// attempt is over (its body read, cancelled or failed, or the attempt abandoned to a deadline).
// A hedge never waits: it goes now or not at all.
//
// Waiters are kept in one FIFO per origin, stamped with a global sequence number: the next to go
// is the oldest head among origins with a free slot. Dispatch costs O(origins), not O(queue).

import {checkPolicyOptions, duration, integer, OptionProblem} from '../options.js';
import {stage, type Admission, type AttemptContext, type Policy} from '../policy.js';

export interface LimitOptions {
	/** Most attempts in flight for the clients using this limit. */
	concurrency?: number;
	/** Most attempts in flight per origin. */
	perHost?: number;
	/** At most `requests` dispatches per `per` ms. */
	rate?: {requests: number; per: number};
}

interface Waiter {
	seq: number;
	queue: OriginQueue;
	resolve: (release: Admission) => void;
	/** Left the queue (dispatched or aborted); removal from its FIFO is lazy. */
	gone: boolean;
	leave?: () => void;
	signal?: AbortSignal;
}

interface OriginQueue {
	waiters: Waiter[];
	head: number;
	active: number;
}

const positive = integer(1, 'a positive integer');

export function limit(options: LimitOptions): Policy {
	checkPolicyOptions('limit', options, {
		concurrency: positive,
		perHost: positive,
		rate(rate, name) {
			checkPolicyOptions(name, rate, {requests: positive, per: duration(false)});
			const r = rate as {requests?: number; per?: number};
			if (r.requests === undefined || r.per === undefined) throw new TypeError(`${name} needs both requests and per`);
		},
	});
	if (options.concurrency === undefined && options.perHost === undefined && options.rate === undefined) {
		throw new OptionProblem(false, 'limit needs concurrency, perHost or rate').toError();
	}
	return Object.assign(new Limit(options), {[stage]: 2});
}

class Limit implements Policy {
	readonly name = 'limit';
	private readonly concurrency: number;
	private readonly perHost: number;
	private readonly rate: {requests: number; per: number} | undefined;
	private inFlight = 0;
	private waiting = 0;
	private seq = 0;
	private readonly origins = new Map<string, OriginQueue>();
	/** Times of the last `rate.requests` dispatches (a ring). */
	private readonly stamps: number[] = [];
	private stampAt = 0;
	private rateTimer: ReturnType<typeof setTimeout> | undefined;
	private pumpScheduled = false;

	constructor(options: LimitOptions) {
		this.concurrency = options.concurrency ?? Number.POSITIVE_INFINITY;
		this.perHost = options.perHost ?? Number.POSITIVE_INFINITY;
		this.rate = options.rate;
	}

	/** Attempts waiting, and attempts holding a slot (for tests and the playground). */
	get queued(): number {
		return this.waiting;
	}

	get active(): number {
		return this.inFlight;
	}

	admit(attempt: AttemptContext): Admission | Promise<Admission> {
		let queue = this.origins.get(attempt.origin);
		if (!queue) this.origins.set(attempt.origin, (queue = {waiters: [], head: 0, active: 0}));
		if (this.waiting === 0 && this.canDispatch(queue)) return this.take(queue);
		if (attempt.hedge) return false;
		const {signal} = attempt;
		return new Promise<Admission>((resolve, reject) => {
			const waiter: Waiter = {seq: this.seq++, queue: queue!, resolve, gone: false, signal};
			waiter.leave = () => {
				this.leave(waiter);
				reject(signal.reason);
			};
			queue!.waiters.push(waiter);
			this.waiting++;
			signal.addEventListener('abort', waiter.leave);
			this.schedulePump();
		});
	}

	private canDispatch(queue: OriginQueue): boolean {
		return this.inFlight < this.concurrency && queue.active < this.perHost && this.rateWait() <= 0;
	}

	/** ms until the rate allows another dispatch (<= 0: now). */
	private rateWait(): number {
		const {rate, stamps} = this;
		return rate && stamps.length >= rate.requests ? stamps[this.stampAt]! + rate.per - performance.now() : 0;
	}

	private take(queue: OriginQueue): Admission {
		this.inFlight++;
		queue.active++;
		const {rate, stamps} = this;
		if (rate) {
			if (stamps.length < rate.requests) stamps.push(performance.now());
			else {
				stamps[this.stampAt] = performance.now();
				this.stampAt = (this.stampAt + 1) % rate.requests;
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
		this.headOf(waiter.queue);
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
			for (const queue of this.origins.values()) {
				if (queue.active >= this.perHost) continue;
				const head = this.headOf(queue);
				if (head && (!next || head.seq < next.seq)) next = head;
			}
			if (!next) return; // every origin with waiters is full
			next.gone = true;
			this.waiting--;
			next.queue.head++;
			next.signal?.removeEventListener('abort', next.leave!);
			next.resolve(this.take(next.queue));
		}
		this.clearRateTimer();
		// Origins with nothing queued and nothing in flight are forgotten.
		for (const [origin, queue] of this.origins) if (queue.active === 0 && queue.head >= queue.waiters.length) this.origins.delete(origin);
	}

	// Not unref'd: a request waiting for the rate is real pending work that keeps a script alive.
	private armRateTimer(ms: number): void {
		this.rateTimer ??= setTimeout(() => {
			this.rateTimer = undefined;
			this.pump();
		}, Math.max(1, Math.ceil(ms)));
	}

	private clearRateTimer(): void {
		clearTimeout(this.rateTimer);
		this.rateTimer = undefined;
	}
}
