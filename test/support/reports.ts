// What surefetch reports when a listener throws (a process warning in Node, console.error in a
// browser), captured for the test to assert on instead of reaching the test run's output.
import {vi} from 'vitest';

const PREFIX = 'surefetch: a listener threw';

/**
 * Runs `work` with surefetch's listener reports captured; returns its value and the reports (the
 * thrown message of each). Other warnings and console output pass through untouched. Reports that
 * come late (a listener's rejected promise) are waited for: until a timer after `work` settled.
 */
export async function captureListenerReports<T>(work: () => Promise<T>): Promise<{value: T; reports: string[]}> {
	const reports: string[] = [];
	const g = globalThis as {process?: {emitWarning?: (...args: unknown[]) => void}};
	const spies: Array<{mockRestore(): void}> = [];
	if (typeof g.process?.emitWarning === 'function') {
		const original = g.process.emitWarning.bind(g.process);
		spies.push(vi.spyOn(g.process as {emitWarning: (...args: unknown[]) => void}, 'emitWarning').mockImplementation((warning: unknown, ...rest: unknown[]) => {
			const text = warning instanceof Error ? warning.message : String(warning);
			if (text.startsWith(`${PREFIX}: `)) reports.push(text.slice(PREFIX.length + 2));
			else original(warning, ...rest);
		}));
	}
	const consoleError = console.error.bind(console);
	spies.push(vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
		// surefetch logs `${PREFIX}: ${message}`, then the error itself.
		if (typeof args[0] === 'string' && args[0].startsWith(`${PREFIX}: `)) reports.push(args[0].slice(PREFIX.length + 2));
		else consoleError(...args);
	}));
	try {
		const value = await work();
		await new Promise((resolve) => setTimeout(resolve, 0));
		return {value, reports};
	} finally {
		for (const spy of spies) spy.mockRestore();
	}
}
