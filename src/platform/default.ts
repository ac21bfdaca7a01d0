// Browsers and workers: no Node error table, no Buffer (see ./node.ts).
import type {Verdict} from './verdict.js';

export const codes: Record<string, Verdict> = {};
export const prefixes: Array<[string, Verdict]> = [];
export const names: Record<string, Verdict> = {};
export const messages: Array<[RegExp, Verdict]> = [];
export const utf8 = (_view: Uint8Array): string | undefined => undefined;
export const channels = undefined as undefined | {
	request: {hasSubscribers: boolean; tracePromise<T>(fn: () => Promise<T>, context: object): Promise<T>};
	retry: {hasSubscribers: boolean; publish(message: unknown): void};
	breaker: {hasSubscribers: boolean; publish(message: unknown): void};
};
