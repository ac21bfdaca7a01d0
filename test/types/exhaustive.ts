// Type test, checked by `tsc` in `npm test`: a switch on `error.kind` is exhaustive, and each kind
// narrows to its class's own fields.
import type {FetchFailure} from '../../src/index.js';

export function describeFailure(error: FetchFailure): string {
	switch (error.kind) {
		case 'timeout':
			return `${error.phase} ${error.timeout ?? 'runtime'}`;
		case 'aborted':
			return `${error.source} ${String(error.reason)}`;
		case 'network':
			return `${error.code} ${error.phase}`;
		case 'http':
			return `${error.status} ${error.statusText} ${String(error.body)} ${error.headers.get('x')}`;
		case 'decode':
			return `${error.reason} ${error.charset} ${error.contentType} ${error.snippet} ${error.issues?.length}`;
		case 'circuit-open':
			return `${error.origin} ${error.retryAfter}`;
		case 'invalid':
			return error.reason;
		default: {
			const unreachable: never = error;
			return unreachable;
		}
	}
}

export function missingCase(error: FetchFailure): string {
	switch (error.kind) {
		case 'timeout':
		case 'aborted':
		case 'network':
		case 'http':
		case 'decode':
		case 'circuit-open':
			return error.kind;
		default: {
			// @ts-expect-error 'invalid' is not handled, so `error` is not `never` here.
			const unreachable: never = error;
			return unreachable;
		}
	}
}
