/**
 * Builds `SET col = $n, …` for a partial update from an allow-list of columns, so a
 * column name never comes from input. Values stay parameterized.
 */
export interface UpdateSql {
  readonly sets: string[];
  readonly args: unknown[];
}

export function buildUpdate(
  patch: Readonly<Record<string, unknown>>,
  columns: Readonly<Record<string, { column: string; cast?: string; encode?: (v: unknown) => unknown }>>,
): UpdateSql {
  const sets: string[] = [];
  const args: unknown[] = [];
  for (const [field, spec] of Object.entries(columns)) {
    const value = patch[field];
    if (value === undefined) continue;
    args.push(spec.encode ? spec.encode(value) : value);
    sets.push(`${spec.column} = $${args.length}${spec.cast ? `::${spec.cast}` : ''}`);
  }
  sets.push('updated_at = now()');
  return { sets, args };
}
