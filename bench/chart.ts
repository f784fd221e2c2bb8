/** A hand-written SVG: grouped bars (ours vs baseline) of throughput and p99 per scenario. */

export interface ChartGroup {
  readonly label: string;
  readonly ours: number;
  readonly baseline: number;
}
export interface ChartPanel {
  readonly title: string;
  readonly unit: string;
  readonly groups: readonly ChartGroup[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number) => (!Number.isFinite(n) ? '-' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

function panel(p: ChartPanel, x0: number, y0: number, w: number, h: number): string {
  const max = Math.max(1e-9, ...p.groups.flatMap((g) => [g.ours, g.baseline].filter(Number.isFinite)));
  const plotH = h - 70;
  const gw = w / Math.max(1, p.groups.length);
  const bw = Math.min(40, gw / 3);
  const out = [`<text x="${x0 + w / 2}" y="${y0 + 16}" text-anchor="middle" font-weight="bold">${esc(p.title)} (${esc(p.unit)})</text>`];
  const base = y0 + 30 + plotH;
  out.push(`<line x1="${x0}" y1="${base}" x2="${x0 + w}" y2="${base}" stroke="#333"/>`);
  p.groups.forEach((g, i) => {
    const cx = x0 + gw * i + gw / 2;
    for (const [j, v, color] of [[0, g.ours, '#2b7bb9'], [1, g.baseline, '#d9822b']] as const) {
      const bh = Number.isFinite(v) ? (v / max) * plotH : 0;
      const x = cx - bw + j * bw;
      out.push(`<rect x="${x.toFixed(1)}" y="${(base - bh).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${color}"/>`);
      out.push(`<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(base - bh - 3).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(v)}</text>`);
    }
    out.push(`<text x="${cx.toFixed(1)}" y="${base + 16}" text-anchor="middle" font-size="11">${esc(g.label)}</text>`);
  });
  return out.join('\n');
}

export function svgChart(title: string, panels: readonly ChartPanel[], footer: readonly string[]): string {
  const w = 460;
  const h = 300;
  const width = w * panels.length + 40 * (panels.length + 1);
  const height = h + 90 + footer.length * 16;
  const body = panels.map((p, i) => panel(p, 40 + i * (w + 40), 40, w, h)).join('\n');
  const legend = `<rect x="40" y="${h + 50}" width="12" height="12" fill="#2b7bb9"/><text x="58" y="${h + 60}">ours (actor via gRPC)</text>` +
    `<rect x="230" y="${h + 50}" width="12" height="12" fill="#d9822b"/><text x="248" y="${h + 60}">baseline (Postgres row lock; a bare Koa route for cached reads)</text>`;
  const foot = footer.map((l, i) => `<text x="40" y="${h + 84 + i * 16}" font-size="11">${esc(l)}</text>`).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>
${body}
${legend}
${foot}
</svg>
`;
}
