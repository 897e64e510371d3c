// Shared shape and printer for benchmark results.

export interface Figure {
  /** stable machine name, used as the JSON key */
  name: string;
  /** what a person reads in the table */
  label: string;
  value: number;
  unit: string;
  /** the same figure for the baseline measured in the same run, if any */
  baseline?: number;
  baselineLabel?: string;
  /** the target from the issue, if any */
  target?: number;
  /** whether larger values are better (throughput) or smaller (latency) */
  better: 'higher' | 'lower';
}

export interface Report {
  title: string;
  figures: Figure[];
  notes?: string[];
}

export type Benchmark = (args: string[]) => Promise<Report>;

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 0.01) return n.toFixed(3);
  return n.toPrecision(3);
}

function verdict(f: Figure): string {
  if (f.target === undefined) return '';
  const ok = f.better === 'higher' ? f.value >= f.target : f.value <= f.target;
  return ok ? 'meets' : 'MISSES';
}

export function printReport(report: Report, json: boolean): void {
  const rows = report.figures.map((f) => [
    f.label,
    `${fmt(f.value)} ${f.unit}`,
    f.baseline === undefined ? '' : `${fmt(f.baseline)} ${f.unit}`,
    f.baseline === undefined || f.baseline === 0 ? '' : `${(f.value / f.baseline).toFixed(2)}×`,
    f.target === undefined ? '' : `${fmt(f.target)} ${f.unit}`,
    verdict(f),
  ]);
  const header = ['figure', 'value', 'baseline', 'ratio', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(`\n${report.title}\n`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
  for (const n of report.notes ?? []) console.log(`\n${n}`);
  if (json) {
    const out: Record<string, number> = {};
    for (const f of report.figures) {
      out[f.name] = f.value;
      if (f.baseline !== undefined) out[`${f.name}_baseline`] = f.baseline;
    }
    console.log(JSON.stringify(out));
  }
}

/** Runs fn repeatedly for at least minMs and returns operations per second. */
export function opsPerSecond(fn: () => void, batch: number, minMs = 500): number {
  let ops = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    fn();
    ops += batch;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (ops / elapsed) * 1000;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}
