// Runs an ES module source in a child Node (the same binary as the test), bounded in time.
import {spawn} from 'node:child_process';

export interface ChildResult {
	code: number | null;
	stdout: string;
	stderr: string;
}

/** `env`: the child's whole environment (default: the test's). */
export function runNodeChild(source: string, {limitMs = 60_000, flags = [] as string[], onStdout, env}: {limitMs?: number; flags?: string[]; onStdout?: (all: string) => void; env?: NodeJS.ProcessEnv} = {}): Promise<ChildResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', source], {stdio: ['ignore', 'pipe', 'pipe'], ...(env ? {env} : {})});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => {
			stdout += chunk;
			onStdout?.(stdout);
		});
		child.stderr.on('data', (chunk: Buffer) => {
			stderr += chunk;
		});
		const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
		child.on('error', reject);
		child.on('exit', (code) => {
			clearTimeout(killer);
			resolve({code, stdout, stderr});
		});
	});
}
