// What a test needs from the fault server: its addresses and its counters.
import {inject} from 'vitest';

export const fault = inject('fault');

export const at = (path: string): string => `${fault.url}${path.startsWith('/') ? '' : '/'}${path}`;

let seq = 0;
/** A fresh id for per-test counters on the server (`?id=`). */
export const uid = (name = 't'): string => `${name}-${Date.now().toString(36)}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export interface ServerStats {
	hits: number;
	requests: number;
	inFlight: number;
	maxInFlight: number;
}

/** The server's counters; `id` selects the per-id hit count. */
export async function stats(id?: string): Promise<ServerStats> {
	const response = await fetch(at(`/__stats${id ? `?id=${encodeURIComponent(id)}` : ''}`));
	return response.json() as Promise<ServerStats>;
}

export const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string' && typeof window === 'undefined';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
