// Small SVG charts for the analytics screen: a few hundred bytes of code instead of a chart library,
// so the screen's chunk stays small. Each chart is an image with a summary as its name, and its
// numbers are one click away as a table for whoever cannot see the picture.

export interface Series {
  label: string;
  /** One value per day; null where there is nothing to show (no replies, nothing due). */
  values: Array<number | null>;
  /** Colour class: series-1 … series-3 in styles.css. */
  tone: 1 | 2 | 3;
}

// Narrow enough that the axis labels stay legible when the chart is shrunk to a phone's width.
const W = 440;
const H = 170;
const PAD = { left: 54, right: 8, top: 10, bottom: 24 };

/** Rounds a maximum up to a tidy axis top (1, 2 or 5 times a power of ten). */
function niceTop(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/** A line chart of one or more daily series, with a legend and a data table. */
export function LineChart({
  title,
  summary,
  days,
  series,
  format = (n) => n.toLocaleString(),
  max,
}: {
  title: string;
  summary: string;
  days: string[];
  series: Series[];
  format?: (n: number) => string;
  max?: number;
}) {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const top = max ?? niceTop(Math.max(0, ...all));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (days.length <= 1 ? innerW / 2 : (i / (days.length - 1)) * innerW);
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const ticks = [0, top / 2, top];
  const labelEvery = Math.max(1, Math.ceil(days.length / 6));
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}: ${summary}`} preserveAspectRatio="xMidYMid meet">
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="grid" />
            <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" className="axis">
              {format(t)}
            </text>
          </g>
        ))}
        {days.map((d, i) =>
          i % labelEvery === 0 ? (
            <text key={d} x={x(i)} y={H - 6} textAnchor="middle" className="axis">
              {d.slice(5)}
            </text>
          ) : null,
        )}
        {series.map((s) => {
          // A gap (null) breaks the line rather than dropping it to zero.
          const segments: string[] = [];
          let current = '';
          s.values.forEach((v, i) => {
            if (v === null) {
              if (current) segments.push(current);
              current = '';
            } else current += `${current ? 'L' : 'M'}${x(i).toFixed(1)},${y(Math.min(v, top)).toFixed(1)}`;
          });
          if (current) segments.push(current);
          return (
            <g key={s.label} className={`series-${s.tone}`}>
              {segments.map((d) => (
                <path key={d} d={d} className="line" />
              ))}
              {s.values.map((v, i) => (v !== null && days.length <= 31 ? <circle key={i} cx={x(i)} cy={y(Math.min(v, top))} r={2.5} className="dot" /> : null))}
            </g>
          );
        })}
      </svg>
      <ul className="legend">
        {series.map((s) => (
          <li key={s.label} className={`series-${s.tone}`}>
            <span className="swatch" aria-hidden="true" /> {s.label}
          </li>
        ))}
      </ul>
      <details>
        <summary>Show the numbers</summary>
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{title} per day</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                {series.map((s) => (
                  <th key={s.label} scope="col">
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {days.map((d, i) => (
                <tr key={d}>
                  <th scope="row">{d}</th>
                  {series.map((s) => (
                    <td key={s.label}>{s.values[i] === null || s.values[i] === undefined ? '–' : format(s.values[i])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
