import type {TestProject} from 'vitest/node';
import {startFaultServer} from '../fault-server/server.js';

declare module 'vitest' {
	export interface ProvidedContext {
		fault: {url: string; tlsUrl: string; refusedUrl: string};
	}
}

// One fault server for the whole run; tests reach its counters over HTTP (/__stats), so the same
// files can run where they cannot share memory with it (a browser).
export default async function setup(project: TestProject) {
	const server = await startFaultServer({host: '127.0.0.1'});
	project.provide('fault', {url: server.url, tlsUrl: server.tlsUrl, refusedUrl: server.refusedUrl});
	return async () => {
		await server.close();
	};
}
