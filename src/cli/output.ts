/**
 * Formats a JSON document the way every command prints one: two-space indented, with one trailing
 * newline.
 *
 * @example
 * ```ts
 * io.stdout(formatJson(ring.jwks()));
 * ```
 */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
