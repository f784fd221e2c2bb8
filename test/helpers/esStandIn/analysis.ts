/**
 * Text analysis of the Elasticsearch stand-in: the standard tokenizer (runs of letters and
 * digits), the token filters the service's index settings name (lowercase, asciifolding,
 * porter_stem — a small suffix stripper, applied alike to documents and queries, which
 * is all matching needs), and fuzzy term matching by Damerau-Levenshtein distance with
 * Elasticsearch's AUTO fuzziness (0 edits up to 2 characters, 1 up to 5, else 2).
 */

export const TOKEN_FILTERS = ['lowercase', 'asciifolding', 'porter_stem'] as const;
export type TokenFilter = (typeof TOKEN_FILTERS)[number];

export interface Analyzer {
  readonly filters: readonly TokenFilter[];
}

export const STANDARD_ANALYZER: Analyzer = { filters: ['lowercase'] };

/** Porter's first steps, simplified: a plural suffix, then an -ing or -ed (readings → read). */
function stem(token: string): string {
  let t = token;
  if (t.length > 4 && t.endsWith('ies')) t = `${t.slice(0, -3)}y`;
  else if (t.length > 4 && /(ss|x|ch|sh)es$/.test(t)) t = t.slice(0, -2);
  else if (t.length > 3 && t.endsWith('s') && !t.endsWith('ss')) t = t.slice(0, -1);
  if (t.length > 5 && t.endsWith('ing')) t = t.slice(0, -3);
  else if (t.length > 4 && t.endsWith('ed')) t = t.slice(0, -2);
  return t;
}

export function analyze(text: string, analyzer: Analyzer): string[] {
  const tokens = text.match(/[\p{L}\p{N}]+/gu) ?? [];
  return tokens.map((raw) => {
    let t = raw;
    for (const f of analyzer.filters) {
      if (f === 'lowercase') t = t.toLowerCase();
      else if (f === 'asciifolding') t = t.normalize('NFD').replace(/\p{M}/gu, '');
      else t = stem(t);
    }
    return t;
  });
}

/** Optimal string alignment distance (edits: insert, delete, substitute, transpose). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

export type Fuzziness = 'AUTO' | 0 | 1 | 2;

export function maxEdits(term: string, fuzziness: Fuzziness | undefined): number {
  if (fuzziness === undefined) return 0;
  if (fuzziness !== 'AUTO') return fuzziness;
  return term.length <= 2 ? 0 : term.length <= 5 ? 1 : 2;
}

/** How well `term` matches `candidate`: 1 exact, 0.5 within the allowed edits, else 0. */
export function termScore(term: string, candidate: string, fuzziness: Fuzziness | undefined): number {
  if (term === candidate) return 1;
  const edits = maxEdits(term, fuzziness);
  return edits > 0 && Math.abs(term.length - candidate.length) <= edits && editDistance(term, candidate) <= edits ? 0.5 : 0;
}
