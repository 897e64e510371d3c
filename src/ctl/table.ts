/**
 * Calico prints `ps`/`wide` output through Go's tabwriter with minwidth 5 and padding
 * 3; reproducing that layout keeps scripts that cut columns by whitespace working.
 */
const MIN_WIDTH = 5;
const PADDING = 3;

export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]) {
  const widths = headers.map((h, i) =>
    Math.max(MIN_WIDTH, ...[h, ...rows.map((r) => r[i] ?? '')].map((c) => c.length + PADDING)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('')
      .trimEnd();
  return `${[headers, ...rows].map(line).join('\n')}\n`;
}

/**
 * A bordered table as calicoctl's `ipam show` and `node status` print them
 * (olekukonko/tablewriter): upper-case centred headers, numbers right-aligned.
 */
export function formatBorderedTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  options: { rightAlign?: readonly number[] } = {},
): string {
  const right = new Set(options.rightAlign ?? []);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const centre = (s: string, w: number) => {
    const left = Math.floor((w - s.length) / 2);
    return ' '.repeat(left) + s + ' '.repeat(w - s.length - left);
  };
  const head = `|${headers.map((h, i) => ` ${centre(h, widths[i]!)} `).join('|')}|`;
  const body = rows.map(
    (r) =>
      `|${widths
        .map((w, i) => {
          const c = r[i] ?? '';
          return ` ${right.has(i) ? c.padStart(w) : c.padEnd(w)} `;
        })
        .join('|')}|`,
  );
  return `${[rule, head, rule, ...body, rule].join('\n')}\n`;
}
