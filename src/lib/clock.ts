/** A clock in epoch seconds (fractional), the unit of JWT times. Injected wherever expiry matters. */
export type Clock = () => number;

/** The system clock in epoch seconds, with millisecond precision. */
export const systemClock: Clock = () => Date.now() / 1000;
