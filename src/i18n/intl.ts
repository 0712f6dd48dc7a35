/**
 * Numbers and dates for the catalogs, through `Intl`: the catalogs choose the layout, `Intl` does the digits
 * (grouping, zero padding, the UTC calendar fields).
 */

const grouping = {
  fr: new Intl.NumberFormat('fr-FR', { useGrouping: true, maximumFractionDigits: 20 }),
  en: new Intl.NumberFormat('en-US', { useGrouping: true, maximumFractionDigits: 20 }),
};

/** A count with the language's thousands separator: "12 345" (narrow no-break space) in French, "12,345" in English. */
export function groupedCount(lang: 'fr' | 'en', n: number): string {
  return grouping[lang].format(n);
}

const utcFields = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** The UTC calendar fields of an ISO timestamp, zero-padded (year, month, day, hour, minute), or undefined when it is not a date. */
export function utcParts(iso: string): { year: string; month: string; day: string; hour: string; minute: string } | undefined {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return undefined;
  const parts = { year: '', month: '', day: '', hour: '', minute: '' };
  for (const p of utcFields.formatToParts(d)) if (p.type === 'year' || p.type === 'month' || p.type === 'day' || p.type === 'hour' || p.type === 'minute') parts[p.type] = p.value;
  return parts;
}
