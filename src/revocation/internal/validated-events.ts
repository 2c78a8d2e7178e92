import type { RevocationEvent } from '../events.js';

// Events this module built and froze after checking every member carry a private field, added by
// the class below. A frozen event cannot change, so it never needs checking again: `apply` and
// `serializeRevocationEvent` skip the parse for these and run it in full for anything else (JSON
// from the bus or the log, a caller's own object). A private field rather than a WeakSet, which
// cost several times the rest of making an event (its table grows with every live event), or a
// symbol, which `Object.getOwnPropertySymbols` would hand to anyone: nothing outside this class
// can add or read the field, reflection and `deepEqual` do not see it, and a copy (a spread,
// `structuredClone`) is a new object without it, checked again.

// Returns the object it is given, so that the subclass's field lands on that object.
class Carrier {
  constructor(target: object) {
    // biome-ignore lint/correctness/noConstructorReturn: the base of the stamping pattern: the subclass adds its private field to the object returned here.
    return target;
  }
}

class CheckedStamp extends Carrier {
  readonly #checked = true;

  static has(value: unknown): boolean {
    return typeof value === 'object' && value !== null && #checked in value;
  }
}

/** Stamps an event whose members have all been checked, before it is frozen; returns it. */
export function markValidated<T extends RevocationEvent>(event: T): T {
  new CheckedStamp(event);
  return event;
}

/** Whether `value` is an event that {@link markValidated} stamped. */
export function isValidated(value: unknown): value is RevocationEvent {
  return CheckedStamp.has(value);
}
