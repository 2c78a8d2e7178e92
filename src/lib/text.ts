// String.prototype.isWellFormed exists in every Node.js revocable supports (20 and later), but the
// ES2023 library types this project compiles against do not declare it yet.
interface WellFormedCheck {
  isWellFormed(): boolean;
}

/**
 * Whether `text` is well-formed UTF-16: no lone surrogate. A lone surrogate has no UTF-8 encoding,
 * so drivers, JSON encoders and snapshot codecs each replace it in their own way (often with
 * U+FFFD), and two different identifiers become one: `user\ud800` would be banned as `user\ufffd`.
 *
 * @example
 * ```ts
 * isWellFormedText('user-1'); // true
 * isWellFormedText('user\ud800'); // false
 * ```
 */
export function isWellFormedText(text: string): boolean {
  return (text as unknown as WellFormedCheck).isWellFormed();
}

// C0 controls, DEL and C1 controls: nothing an identifier needs, and what log injection and
// header splitting are made of.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Whether `text` contains a control character (U+0000 to U+001F, U+007F to U+009F).
 *
 * @example
 * ```ts
 * hasControlCharacter('user-1'); // false
 * hasControlCharacter('user\n1'); // true
 * ```
 */
export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}
