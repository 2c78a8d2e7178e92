/** The edit distance between two short words (insertions, deletions, substitutions, swaps). */
function distance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/**
 * The known name closest to a mistyped one, for a "did you mean" hint: within two edits (one for
 * short names), or one name the other starts with (`data-dir` for `data`). Case, `_` and `-` are
 * ignored, so `access_ttl` finds `access-ttl` and `accessttl` finds `accessTtl`.
 *
 * @example
 * ```ts
 * closestName('prot', ['port', 'host']); // 'port'
 * ```
 */
export function closestName(typed: string, known: readonly string[]): string | null {
  const plain = (word: string) => word.toLowerCase().replace(/[-_]/g, '');
  const wanted = plain(typed);
  if (wanted.length === 0) return null;
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const name of known) {
    const candidate = plain(name);
    const limit = Math.min(candidate.length, wanted.length) <= 4 ? 1 : 2;
    let score = distance(wanted, candidate);
    if (score > limit) {
      const prefix = candidate.length >= 4 && wanted.length >= 4;
      score =
        prefix && (wanted.startsWith(candidate) || candidate.startsWith(wanted)) ? limit : score;
    }
    if (score <= limit && score < bestDistance) {
      best = name;
      bestDistance = score;
    }
  }
  return best;
}

/**
 * A name from input, for a problem line, when it looks like a name (echoed, so the user sees the
 * slip), or null when it does not: a pasted secret in a name's place must not be repeated. The
 * same rule as the CLI's for unknown options: a letter, then at most 31 letters, digits, - or _.
 */
export function shownName(name: string): string | null {
  return /^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(name) ? name : null;
}
