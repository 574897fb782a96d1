import { TARGETS } from './options';
import { RunResult } from './run';
import { claimModesOf, fmt, groupByReplicas, type ReplicaGroup } from './report';

/**
 * A small hand-written SVG: completed orders/s (left axis) and p99 at half peak (right axis) against
 * replicas; with several rounds the lines join the medians and every round is a small dot. With
 * two claim modes, the second one's throughput is a third (green) line.
 */
export function chart(allRuns: RunResult[], subtitle: string): string {
  const modes = claimModesOf(allRuns);
  const runs = groupByReplicas(allRuns, modes[0]);
  const second = modes[1] === undefined ? undefined : groupByReplicas(allRuns, modes[1]);
  const W = 720;
  const H = 420;
  const m = { left: 80, right: 80, top: 80, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const xs = [...runs, ...(second ?? [])].map((r) => r.replicas);
  const xMax = Math.max(...xs, 1) + 1;
  const x = (v: number): number => m.left + (v / xMax) * pw;
  const niceMax = (v: number): number => {
    if (!(v > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    return [1, 2, 2.5, 5, 10].map((k) => k * p).find((c) => c >= v) ?? 10 * p;
  };
  const tput = runs.map((g) => g.completedPerSec);
  const p99 = runs.map((g) => g.halfP99Ms);
  const everyTput = allRuns.map((r) => r.peak.completedPerSec);
  const everyP99 = allRuns.map((r) => r.half.latencyMs.p99);
  const yLMax = niceMax(Math.max(...everyTput.filter(Number.isFinite), TARGETS.completedPerSec3) * 1.1);
  const yRMax = niceMax(Math.max(...everyP99.filter(Number.isFinite), TARGETS.p99HalfMs) * 1.1);
  const yL = (v: number): number => m.top + ph - (v / yLMax) * ph;
  const yR = (v: number): number => m.top + ph - (v / yRMax) * ph;
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">End-to-end throughput and p99 latency against inventory replicas</text>`,
  );
  out.push(`<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const vl = (yLMax * i) / 5;
    const vr = (yRMax * i) / 5;
    const y = yL(vl);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${y + 4}" text-anchor="end" fill="#1f77b4">${fmt(vl)}</text>`);
    out.push(`<text x="${m.left + pw + 8}" y="${y + 4}" fill="#d62728">${fmt(vr, vr < 10 && vr % 1 !== 0 ? 1 : 0)}</text>`);
  }
  for (let v = 0; v <= xMax; v++) {
    if (xMax > 12 && v % 2 === 1) continue;
    out.push(`<line x1="${x(v)}" y1="${m.top + ph}" x2="${x(v)}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${x(v)}" y="${m.top + ph + 18}" text-anchor="middle">${v}</text>`);
  }
  out.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#1f77b4"/>`);
  out.push(`<line x1="${m.left + pw}" y1="${m.top}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#d62728"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 22}" text-anchor="middle">inventory replicas</text>`);
  out.push(
    `<text transform="translate(20 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#1f77b4">completed orders/s (full speed)</text>`,
  );
  out.push(
    `<text transform="translate(${W - 18} ${m.top + ph / 2}) rotate(90)" text-anchor="middle" fill="#d62728">p99 accept→terminal at half peak (ms)</text>`,
  );
  // Targets as dotted lines.
  out.push(
    `<line x1="${m.left}" y1="${yL(TARGETS.completedPerSec3)}" x2="${m.left + pw}" y2="${yL(TARGETS.completedPerSec3)}" stroke="#1f77b4" stroke-dasharray="2 4"/>`,
  );
  out.push(
    `<text x="${m.left + 6}" y="${yL(TARGETS.completedPerSec3) - 5}" fill="#1f77b4" font-size="11">target ≥ ${fmt(TARGETS.completedPerSec3)}/s (3 replicas)</text>`,
  );
  out.push(
    `<line x1="${m.left}" y1="${yR(TARGETS.p99HalfMs)}" x2="${m.left + pw}" y2="${yR(TARGETS.p99HalfMs)}" stroke="#d62728" stroke-dasharray="2 4"/>`,
  );
  out.push(
    `<text x="${m.left + pw - 6}" y="${yR(TARGETS.p99HalfMs) - 5}" text-anchor="end" fill="#d62728" font-size="11">target p99 ≤ ${TARGETS.p99HalfMs} ms</text>`,
  );
  const series = (
    groups: ReplicaGroup[],
    values: number[],
    y: (v: number) => number,
    color: string,
    dash: string,
    label: (v: number) => string,
    labelDy: number,
  ): void => {
    const points = groups.map((r, i) => [x(r.replicas), y(values[i])] as const).filter(([, py]) => Number.isFinite(py));
    if (points.length > 1)
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2.5"${dash} points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}"/>`,
      );
    groups.forEach((r, i) => {
      if (!Number.isFinite(values[i])) return;
      out.push(`<circle cx="${x(r.replicas).toFixed(1)}" cy="${y(values[i]).toFixed(1)}" r="4.5" fill="${color}"/>`);
      out.push(
        `<text x="${(x(r.replicas) + 8).toFixed(1)}" y="${(y(values[i]) + labelDy).toFixed(1)}" fill="${color}" font-size="11">${label(values[i])}</text>`,
      );
    });
  };
  if (allRuns.length > runs.length + (second?.length ?? 0)) {
    for (const r of allRuns.filter((run) => run.claimMode === modes[0])) {
      out.push(
        `<circle cx="${x(r.replicas).toFixed(1)}" cy="${yL(r.peak.completedPerSec).toFixed(1)}" r="2" fill="#1f77b4" opacity="0.5"/>`,
      );
      if (Number.isFinite(r.half.latencyMs.p99))
        out.push(
          `<circle cx="${x(r.replicas).toFixed(1)}" cy="${yR(r.half.latencyMs.p99).toFixed(1)}" r="2" fill="#d62728" opacity="0.5"/>`,
        );
    }
  }
  // Throughput labels below their points, latency labels above, so coinciding points stay readable.
  series(runs, tput, yL, '#1f77b4', '', (v) => `${fmt(v)}/s`, 18);
  series(runs, p99, yR, '#d62728', ' stroke-dasharray="7 4"', (v) => `${fmt(v)} ms`, -8);
  if (second) {
    series(
      second,
      second.map((g) => g.completedPerSec),
      yL,
      '#2ca02c',
      ' stroke-dasharray="2 3"',
      (v) => `${fmt(v)}/s`,
      -8,
    );
    out.push(`<line x1="${W / 2 - 120}" y1="76" x2="${W / 2 - 94}" y2="76" stroke="#2ca02c" stroke-width="2.5" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${W / 2 - 88}" y="80">completed orders/s, CLAIM_MODE=${modes[1]} (left axis)</text>`);
  }
  // Legend: one row between the title and the plot.
  const ly = 60;
  const lx = W / 2 - 265;
  out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 26}" y2="${ly}" stroke="#1f77b4" stroke-width="2.5"/>`);
  out.push(`<text x="${lx + 32}" y="${ly + 4}">completed orders/s at full speed${second ? `, ${modes[0]}` : ''} (left axis)</text>`);
  out.push(`<line x1="${lx + 310}" y1="${ly}" x2="${lx + 336}" y2="${ly}" stroke="#d62728" stroke-width="2.5" stroke-dasharray="7 4"/>`);
  out.push(`<text x="${lx + 342}" y="${ly + 4}">p99 at half peak (right axis)</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
