// A client family's lifetime (a client and everything `extend` derived from it): the root of the
// signal tree, the count of operations in flight, and `close()`.

import {CallerAbort, linkSignal, SignalNode, unlinkSignal, type LinkTarget} from './deadlines.js';

export class Lifecycle implements LinkTarget {
	readonly root = new SignalNode();
	private active = 0;
	private closed = false;
	private drained: Promise<void> | undefined;
	private resolveDrained: (() => void) | undefined;

	constructor(private readonly signal: AbortSignal | undefined) {}

	/** Registers an operation and returns its node (already aborted when the client is closed). */
	enter(): SignalNode {
		const {signal} = this;
		if (!this.closed && signal?.aborted) void this.close(signal.reason);
		const node = new SignalNode(this.root);
		// The client's signal gets one listener while anything is in flight, none when idle.
		if (this.active++ === 0 && signal && !this.closed) linkSignal(signal, this);
		return node;
	}

	leave(): void {
		if (--this.active > 0) return;
		if (this.signal) unlinkSignal(this.signal, this);
		this.resolveDrained?.();
		this.resolveDrained = undefined;
		this.drained = undefined;
	}

	onExternalAbort(reason: unknown): void {
		void this.close(reason);
	}

	get isClosed(): boolean {
		return this.closed;
	}

	get inFlight(): number {
		return this.active;
	}

	/** Aborts everything queued and in flight; resolves once all of it has settled. Idempotent. */
	close(reason?: unknown): Promise<void> {
		if (!this.closed) {
			this.closed = true;
			this.root.abort(new CallerAbort('client', reason === undefined ? new DOMException('The surefetch client was closed', 'AbortError') : reason));
		}
		if (this.active === 0) return Promise.resolve();
		return (this.drained ??= new Promise<void>((resolve) => {
			this.resolveDrained = resolve;
		}));
	}
}
