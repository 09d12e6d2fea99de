/**
 * Small server-rendered SVG charts (no script, no library): a column chart (stacked series
 * over many categories, e.g. days) and a horizontal bar chart (grouped series over a few
 * labelled categories). Each is an `<svg role="img">` with a `<title>` and `<desc>`; the
 * pages put the same numbers in a table beside it. Text uses `currentColor`, so the charts
 * follow the page's colours; widths scale with the container (viewBox).
 */

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#8C6D1F',
  '#555555',
];

export interface Series {
  name: string;
  values: number[];
  color?: string;
}

export interface ChartOptions {
  /** Unique within the page (ids of title and desc). */
  id: string;
  title: string;
  desc: string;
  categories: string[];
  series: Series[];
  /** Tick and value labels (default: the number). */
  format?: (n: number) => string;
  /** Nice tick steps for the value axis (default 1-2-5 × 10^k). */
  ticks?: (max: number) => number[];
  /** Width of the drawing in SVG units (default 640; a phone-sized variant uses about 360). */
  width?: number;
  /** Extra class on the <svg> (e.g. which screen sizes show it). */
  className?: string;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Escapes text for SVG content or a quoted attribute. */
export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESC[c]!);
}

const num = (n: number) => (Math.round(n * 10) / 10).toString();

/** Ticks from 0 to at least `max`, on a 1-2-5 step, about `count` of them. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= rough) ?? 10 * mag;
  return upTo(max, step);
}

/** 0, step, 2·step… up to the first tick at or above `max`. */
function upTo(max: number, step: number): number[] {
  const out: number[] = [0];
  for (let i = 1; out[out.length - 1]! < max - step * 1e-9; i++) out.push(i * step);
  if (out.length < 2) out.push(step);
  return out;
}

/** Integer ticks for counts (never half a request). */
export function countTicks(max: number): number[] {
  const ticks = niceTicks(Math.max(max, 1));
  return upTo(max, Math.max(1, Math.ceil(ticks[1]!)));
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  MIN,
  5 * MIN,
  15 * MIN,
  30 * MIN,
  HOUR,
  2 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
];

/** Ticks for durations in ms, on steps people read (minutes, hours, days). */
export function timeTicks(max: number): number[] {
  if (max < MIN) return niceTicks(max);
  const m = max;
  const step = TIME_STEPS.find((s) => m / s <= 5) ?? Math.ceil(m / 5 / DAY) * DAY;
  return upTo(m, step);
}

function head(o: ChartOptions, width: number, height: number): string {
  return `<svg class="chart${o.className ? ` ${esc(o.className)}` : ''}" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="${esc(o.id)}-title ${esc(o.id)}-desc" font-size="12" font-family="inherit" data-chart="${esc(o.id)}"><title id="${esc(o.id)}-title">${esc(o.title)}</title><desc id="${esc(o.id)}-desc">${esc(o.desc)}</desc>`;
}

function legend(series: Series[], x: number, y: number, span: number, min = 2): string {
  if (series.length < min) return '';
  let out = '';
  let cx = x;
  let cy = y;
  for (const [i, s] of series.entries()) {
    const w = 22 + s.name.length * 7;
    if (cx + w > x + span && cx > x) {
      cx = x;
      cy += 16;
    }
    out += `<g class="legend-item"><rect x="${cx}" y="${cy - 9}" width="10" height="10" fill="${s.color ?? PALETTE[i % PALETTE.length]}"/><text x="${cx + 14}" y="${cy}" fill="currentColor">${esc(s.name)}</text></g>`;
    cx += w;
  }
  return out;
}

function legendRows(series: Series[], span: number, min = 2): number {
  if (series.length < min) return 0;
  let rows = 1;
  let w = 0;
  for (const s of series) {
    const item = 22 + s.name.length * 7;
    if (w + item > span && w > 0) {
      rows++;
      w = 0;
    }
    w += item;
  }
  return rows;
}

/** Vertical columns, one per category, the series stacked; every `labelEvery`-th category labelled. */
export function columnChart(o: ChartOptions & { labelEvery?: number }): string {
  const fmt = o.format ?? num;
  const n = o.categories.length;
  const totals = o.categories.map((_, i) => o.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const ticks = (o.ticks ?? niceTicks)(Math.max(0, ...totals));
  const top = ticks[ticks.length - 1]! || 1;
  const width = o.width ?? 640;
  const left = 44;
  const right = 8;
  const legendH = legendRows(o.series, width - left - right, 1) * 16;
  const plotTop = 10 + legendH;
  const plotH = width < 500 ? 150 : 180;
  const height = plotTop + plotH + 36;
  const plotW = width - left - right;
  const band = plotW / Math.max(n, 1);
  const barW = Math.max(2, band * 0.72);
  const y = (v: number) => plotTop + plotH - (v / top) * plotH;
  let svg = head(o, width, height);
  svg += legend(o.series, left, 12, width - left - right, 1);
  for (const t of ticks) {
    svg += `<line x1="${left}" x2="${width - right}" y1="${num(y(t))}" y2="${num(y(t))}" stroke="currentColor" stroke-opacity="${t === 0 ? 0.6 : 0.15}"/>`;
    svg += `<text x="${left - 6}" y="${num(y(t) + 4)}" text-anchor="end" fill="currentColor">${esc(fmt(t))}</text>`;
  }
  const every = o.labelEvery ?? Math.max(1, Math.ceil(n / Math.floor(plotW / 70)));
  for (let i = 0; i < n; i++) {
    const x = left + i * band + (band - barW) / 2;
    let base = 0;
    for (const [si, s] of o.series.entries()) {
      const v = s.values[i] ?? 0;
      if (v <= 0) continue;
      const y1 = y(base + v);
      const h = y(base) - y1;
      svg += `<rect x="${num(x)}" y="${num(y1)}" width="${num(barW)}" height="${num(Math.max(h, 0.5))}" fill="${s.color ?? PALETTE[si % PALETTE.length]}"><title>${esc(`${o.categories[i]}: ${s.name} ${fmt(v)}`)}</title></rect>`;
      base += v;
    }
    if ((n - 1 - i) % every === 0) {
      svg += `<text x="${num(left + i * band + band / 2)}" y="${plotTop + plotH + 16}" text-anchor="middle" fill="currentColor">${esc(o.categories[i]!)}</text>`;
    }
  }
  return `${svg}</svg>`;
}

/** Horizontal bars: one row per category, one bar per series inside it, the value written after each bar. */
export function barChart(o: ChartOptions): string {
  const fmt = o.format ?? num;
  const values = o.series.flatMap((s) => s.values);
  const ticks = (o.ticks ?? niceTicks)(Math.max(0, ...values));
  const top = ticks[ticks.length - 1]! || 1;
  const width = o.width ?? 640;
  const labelW = Math.min(width * 0.32, Math.max(60, ...o.categories.map((c) => c.length * 7 + 8)));
  const right = 70;
  const legendH = legendRows(o.series, width - labelW - right) * 16;
  const barH = 14;
  const gap = 3;
  const rowH = o.series.length * (barH + gap) + 10;
  const plotTop = 10 + legendH;
  const plotH = Math.max(rowH * o.categories.length, rowH);
  const height = plotTop + plotH + 24;
  const plotW = width - labelW - right;
  const x = (v: number) => labelW + (v / top) * plotW;
  let svg = head(o, width, height);
  svg += legend(o.series, labelW, 12, width - labelW - right);
  for (const t of ticks) {
    svg += `<line x1="${num(x(t))}" x2="${num(x(t))}" y1="${plotTop}" y2="${plotTop + plotH}" stroke="currentColor" stroke-opacity="${t === 0 ? 0.6 : 0.15}"/>`;
    svg += `<text x="${num(x(t))}" y="${plotTop + plotH + 16}" text-anchor="middle" fill="currentColor">${esc(fmt(t))}</text>`;
  }
  const maxChars = Math.max(4, Math.floor((labelW - 8) / 7));
  for (const [ci, c] of o.categories.entries()) {
    const y0 = plotTop + ci * rowH + 5;
    const label = c.length > maxChars ? `${c.slice(0, maxChars - 1)}…` : c;
    svg += `<text x="${labelW - 8}" y="${num(y0 + (o.series.length * (barH + gap)) / 2 + 2)}" text-anchor="end" fill="currentColor">${esc(label)}</text>`;
    for (const [si, s] of o.series.entries()) {
      const v = s.values[ci];
      const y1 = y0 + si * (barH + gap);
      if (v === undefined || Number.isNaN(v)) {
        svg += `<text x="${labelW + 4}" y="${y1 + barH - 3}" fill="currentColor" fill-opacity="0.7">no data</text>`;
        continue;
      }
      const w = Math.max(x(v) - labelW, v > 0 ? 1 : 0);
      svg += `<rect x="${labelW}" y="${y1}" width="${num(w)}" height="${barH}" fill="${s.color ?? PALETTE[si % PALETTE.length]}"><title>${esc(`${c}: ${s.name} ${fmt(v)}`)}</title></rect>`;
      svg += `<text x="${num(labelW + w + 4)}" y="${y1 + barH - 3}" fill="currentColor">${esc(fmt(v))}</text>`;
    }
  }
  return `${svg}</svg>`;
}

/**
 * A chart drawn twice: for wide screens and for phones (narrower drawing, so its text stays
 * readable when scaled down). CSS shows one of them (`.chart-wide` / `.chart-narrow`); the
 * hidden one is out of the accessibility tree too (display: none).
 */
export function responsive<O extends ChartOptions>(draw: (o: O) => string, o: O): string {
  return (
    draw({ ...o, width: 640, className: 'chart-wide' }) +
    draw({ ...o, id: `${o.id}-narrow`, width: 360, className: 'chart-narrow' })
  );
}

export const CHART_CSS = `
svg.chart{max-width:48rem;height:auto;display:block}
svg.chart-narrow{display:none}
@media (max-width:600px){svg.chart-wide{display:none}svg.chart-narrow{display:block}}
`;
