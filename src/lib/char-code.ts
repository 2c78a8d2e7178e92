// Taken once, when this module loads. V8's optimized code folds `text.charCodeAt(i)` to a direct
// read only while String.prototype keeps fast properties. A class that extends String puts it in
// dictionary mode (V8 normalizes an object when it becomes a prototype), and ioredis defines one
// (`VerbatimString`, adapted from node-redis), so importing it does; from then on every such call
// looks the method up again, about five times slower in a loop over a token. A reference to the
// method held here is the same function whatever becomes of String.prototype, and inlines to the
// same read.
const method = String.prototype.charCodeAt;

/**
 * `text.charCodeAt(index)`, immune to the state of String.prototype: for the loops of the verify
 * path (the token cache, the Authorization header, the revocation index's hash) and of the JSON
 * checks. The UTF-16 code unit at `index`, NaN out of range. @internal
 */
export function charCodeAt(text: string, index: number): number {
  return method.call(text, index);
}
