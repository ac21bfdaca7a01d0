// `dedupe()`: concurrent GET and HEAD calls with the same URL and request headers share one attempt
// in flight. Each caller gets its own Response (a branch of the shared body) and so its own reader
// result; a caller's abort or deadline settles that caller alone; the shared attempt is given up
// only when every caller has gone. A call may join until the shared response's headers arrive.

import {stage, type Policy, type Send, type SendContext} from '../policy.js';

interface Seat {
	left: boolean;
	response?: Response;
}

interface Flight {
	seats: Set<Seat>;
	controller: AbortController;
	response: Promise<Response>;
}

const cancel = (response: Response | undefined) => void response?.body?.cancel().catch(() => {});

export function dedupe(): Policy {
	const flights = new Map<string, Flight>();
	return {
		name: 'dedupe',
		[stage]: 1,
		async send(context: SendContext, next: Send): Promise<Response> {
			const {request} = context;
			if (request.method !== 'GET' && request.method !== 'HEAD') return next(request);
			// Headers iterate sorted by name, so equal header sets give equal keys.
			const key = `${request.method} ${request.url}\n${[...request.headers].join('\n')}`;
			let flight = flights.get(key);
			if (!flight) {
				const controller = new AbortController();
				const seats = new Set<Seat>();
				const response = next(request, {shared: true, signal: controller.signal});
				flight = {seats, controller, response};
				const f = flight;
				// At the headers every caller still waiting gets its own branch of the body; the flight closes.
				response.then((shared) => {
					if (flights.get(key) === f) flights.delete(key);
					const waiting = [...seats];
					waiting.forEach((seat, i) => {
						seat.response = i === waiting.length - 1 ? shared : shared.clone();
					});
					if (waiting.length === 0) cancel(shared);
				}, () => {
					if (flights.get(key) === f) flights.delete(key);
				});
				flights.set(key, flight);
			}
			const {seats, controller} = flight;
			const seat: Seat = {left: false};
			seats.add(seat);
			const {signal} = context;
			const leave = () => {
				seat.left = true;
				// After the headers only this caller's branch goes; before them, the last caller takes the attempt along.
				if (seat.response) return cancel(seat.response);
				seats.delete(seat);
				if (seats.size > 0) return;
				if (flights.get(key) === flight) flights.delete(key);
				controller.abort();
			};
			signal.addEventListener('abort', leave);
			try {
				await flight.response;
			} finally {
				signal.removeEventListener('abort', leave);
			}
			seats.delete(seat);
			if (seat.left) {
				cancel(seat.response);
				throw signal.reason;
			}
			return seat.response!;
		},
	} as Policy;
}
