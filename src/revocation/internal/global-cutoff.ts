/**
 * The one global cut-off: every token issued before `at` (plus the skew) is dead until `until`.
 * `until` 0 means none. Merges by maximum; an expired cut-off is replaced, not merged.
 */
export class GlobalCutoff {
  at = 0;
  until = 0;

  /** Merges a cut-off; whether anything changed. */
  merge(at: number, until: number, deadline: number): boolean {
    if (this.until === 0 || this.until <= deadline) {
      this.at = at;
      this.until = until;
      return true;
    }
    let changed = false;
    if (at > this.at) {
      this.at = at;
      changed = true;
    }
    if (until > this.until) {
      this.until = until;
      changed = true;
    }
    return changed;
  }

  /** Forgets an expired cut-off; whether it did. */
  sweep(deadline: number): boolean {
    if (this.until === 0 || this.until > deadline) return false;
    this.at = 0;
    this.until = 0;
    return true;
  }
}
