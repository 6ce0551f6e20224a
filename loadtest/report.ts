/**
 * `report.html` of a run: one self-contained page (no script, no stylesheet or font from anywhere:
 * it opens offline) with inline SVG charts drawn here — offered vs completed rate, latency
 * percentiles over time, outcomes by code per second, stock and voucher counters — and the tables
 * of totals, goals, invariants, CPU per checkout and the chaos events.
 */
import type { SecondRow } from './recorder';

export interface ReportEvent {
  atMs: number;
  what: string;
}

export interface ReportInput {
  title: string;
  generatedAt: string;
  settings: Record<string, unknown>;
  seconds: SecondRow[];
  totals: Record<string, unknown>;
  goals: { name: string; target: string; measured: number | string | null; met: boolean }[];
  invariants: { name: string; ok: boolean; detail: string }[];
  cpu?: Record<string, unknown>;
  events: ReportEvent[];
  notes: string[];
}

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

interface Series {
  name: string;
  points: (number | null)[];
}

const width = 860;
const height = 240;
const margin = { left: 56, right: 150, top: 24, bottom: 30 };

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

function axes(title: string, xMax: number, yMax: number, yLabel: string, events: readonly ReportEvent[]): string[] {
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const parts: string[] = [`<text x="${margin.left}" y="16" class="t">${escapeHtml(title)}</text>`];
  for (let i = 0; i <= 4; i += 1) {
    const y = margin.top + plotH - (plotH * i) / 4;
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" class="g"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y + 4}" class="yl">${Math.round(((yMax * i) / 4) * 100) / 100}</text>`);
  }
  const xStep = Math.max(1, Math.ceil(xMax / 10));
  for (let s = 0; s <= xMax; s += xStep) {
    const x = margin.left + (plotW * s) / Math.max(1, xMax);
    parts.push(`<text x="${x}" y="${height - 10}" class="xl">${s}s</text>`);
  }
  parts.push(`<text x="12" y="${margin.top + plotH / 2}" class="yl" transform="rotate(-90 12 ${margin.top + plotH / 2})">${escapeHtml(yLabel)}</text>`);
  for (const event of events) {
    const x = margin.left + (plotW * event.atMs) / 1000 / Math.max(1, xMax);
    parts.push(`<line x1="${x}" x2="${x}" y1="${margin.top}" y2="${margin.top + plotH}" class="ev"><title>${escapeHtml(`${(event.atMs / 1000).toFixed(1)} s: ${event.what}`)}</title></line>`);
  }
  return parts;
}

function legend(names: readonly string[]): string[] {
  return names.map((name, i) => {
    const y = margin.top + 6 + i * 16;
    const x = width - margin.right + 10;
    return `<rect x="${x}" y="${y - 8}" width="10" height="10" fill="${palette[i % palette.length]}"/><text x="${x + 14}" y="${y + 1}" class="lg">${escapeHtml(name)}</text>`;
  });
}

function svg(parts: readonly string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

export function lineChart(title: string, yLabel: string, series: readonly Series[], events: readonly ReportEvent[] = []): string {
  const xMax = Math.max(1, ...series.map((s) => s.points.length - 1));
  const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.points.filter((p): p is number => p !== null))));
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const parts = axes(title, xMax, yMax, yLabel, events);
  series.forEach((s, i) => {
    const segments: string[] = [];
    let current: string[] = [];
    s.points.forEach((p, x) => {
      if (p === null) {
        if (current.length) segments.push(current.join(' '));
        current = [];
        return;
      }
      current.push(`${(margin.left + (plotW * x) / xMax).toFixed(1)},${(margin.top + plotH - (plotH * p) / yMax).toFixed(1)}`);
    });
    if (current.length) segments.push(current.join(' '));
    for (const points of segments) {
      const single = !points.includes(' ');
      parts.push(single ? `<circle cx="${points.split(',')[0]}" cy="${points.split(',')[1]}" r="2" fill="${palette[i % palette.length]}"/>` : `<polyline points="${points}" fill="none" stroke="${palette[i % palette.length]}" stroke-width="1.6"/>`);
    }
  });
  parts.push(...legend(series.map((s) => s.name)));
  return svg(parts);
}

export function stackedBars(title: string, yLabel: string, series: readonly Series[], events: readonly ReportEvent[] = []): string {
  const length = Math.max(1, ...series.map((s) => s.points.length));
  const totals = Array.from({ length }, (_, x) => series.reduce((sum, s) => sum + (s.points[x] ?? 0), 0));
  const yMax = niceMax(Math.max(0, ...totals));
  const xMax = Math.max(1, length - 1);
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const barW = Math.max(1, plotW / (xMax + 1) - 1);
  const parts = axes(title, xMax, yMax, yLabel, events);
  for (let x = 0; x < length; x += 1) {
    let base = 0;
    series.forEach((s, i) => {
      const value = s.points[x] ?? 0;
      if (value <= 0) return;
      const h = (plotH * value) / yMax;
      const y = margin.top + plotH - (plotH * base) / yMax - h;
      parts.push(`<rect x="${(margin.left + (plotW * x) / xMax - barW / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${palette[i % palette.length]}"><title>${escapeHtml(`${x}s ${s.name}: ${value}`)}</title></rect>`);
      base += value;
    });
  }
  parts.push(...legend(series.map((s) => s.name)));
  return svg(parts);
}

function table(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '-';
    return escapeHtml(typeof v === 'string' ? v : JSON.stringify(v));
  };
  return `<table><tr>${header.map((h) => `<th>${cell(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('')}</table>`;
}

export function renderReport(input: ReportInput): string {
  const rows = input.seconds;
  const outcomeNames = [...new Set(rows.flatMap((r) => Object.keys(r.outcomes)))].sort();
  const counterNames = [...new Set(rows.flatMap((r) => Object.keys(r.counters)))].sort();
  const ok = input.invariants.every((i) => i.ok);
  const charts = [
    lineChart('Offered vs completed rate', 'per second', [
      { name: 'offered', points: rows.map((r) => r.offered) },
      { name: 'completed', points: rows.map((r) => r.completed) },
    ], input.events),
    lineChart('Latency of admitted checkouts (settled in that second)', 'ms', [
      { name: 'p50', points: rows.map((r) => r.p50) },
      { name: 'p90', points: rows.map((r) => r.p90) },
      { name: 'p99', points: rows.map((r) => r.p99) },
      { name: 'refused p99', points: rows.map((r) => r.refusedP99) },
    ], input.events),
    stackedBars('Outcomes by code (per second of answer)', 'count', outcomeNames.map((name) => ({ name, points: rows.map((r) => r.outcomes[name] ?? 0) })), input.events),
    ...(counterNames.length > 0 ? [lineChart('Stock and voucher counters', 'units', counterNames.map((name) => ({ name, points: rows.map((r) => r.counters[name] ?? null) })), input.events)] : []),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
.ok{color:#1a7f37;font-weight:600}.bad{color:#c62828;font-weight:600}
svg{display:block;margin:12px 0;background:#fff}
svg .t{font-size:13px;font-weight:600}svg .g{stroke:#eee}svg .yl{font-size:10px;text-anchor:end}svg .xl{font-size:10px;text-anchor:middle}
svg .lg{font-size:11px}svg .ev{stroke:#c62828;stroke-dasharray:3 3}
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
<p>Generated ${escapeHtml(input.generatedAt)}. Invariants: <span class="${ok ? 'ok' : 'bad'}">${ok ? 'all hold' : 'BROKEN'}</span>.
${input.events.length > 0 ? 'Dashed red lines mark the events below (hover for what).' : ''}</p>
${input.notes.map((n) => `<p>${escapeHtml(n)}</p>`).join('\n')}
${charts.join('\n')}
<h2>Totals</h2>${table(['figure', 'value'], Object.entries(input.totals))}
${input.goals.length > 0 ? `<h2>Goals</h2>${table(['goal', 'target', 'measured', 'met'], input.goals.map((g) => [g.name, g.target, g.measured, g.met ? 'yes' : 'NO']))}` : ''}
<h2>Invariants</h2>
<table><tr><th>invariant</th><th>holds</th><th>detail</th></tr>${input.invariants
    .map((i) => `<tr><td>${escapeHtml(i.name)}</td><td class="${i.ok ? 'ok' : 'bad'}">${i.ok ? 'yes' : 'NO'}</td><td>${escapeHtml(i.detail)}</td></tr>`)
    .join('')}</table>
${input.cpu ? `<h2>CPU</h2>${table(['figure', 'value'], Object.entries(input.cpu))}` : ''}
${input.events.length > 0 ? `<h2>Events</h2>${table(['at (s)', 'event'], input.events.map((e) => [(e.atMs / 1000).toFixed(1), e.what]))}` : ''}
<h2>Settings</h2>${table(['setting', 'value'], Object.entries(input.settings))}
</body></html>
`;
}
