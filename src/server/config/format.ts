const DURATION_UNITS: readonly (readonly [string, number])[] = [
  ['d', 86400],
  ['h', 3600],
  ['m', 60],
];

/**
 * Writes whole seconds the way they are typed in flags: in the largest unit that divides them
 * exactly (`600` is `10m`, `90` stays `90s`), so help and summaries read like the input.
 *
 * @example
 * ```ts
 * formatDuration(604800); // '7d'
 * ```
 */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of DURATION_UNITS) {
    if (seconds > 0 && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/**
 * Writes a size in bytes with the binary unit that divides it exactly (`16384` is `16KiB`).
 *
 * @example
 * ```ts
 * formatBytes(1048576); // '1MiB'
 * ```
 */
export function formatBytes(bytes: number): string {
  if (bytes > 0 && bytes % 1048576 === 0) return `${bytes / 1048576}MiB`;
  if (bytes > 0 && bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}`;
}
