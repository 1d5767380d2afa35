/** A zone's UTC offsets over time, from the zone rules Intl carries. */

export const MINUTE = 60_000;
export const HOUR = 3_600_000;

/** One change of a zone's UTC offset, with the offsets (minutes east of UTC) before and after it. */
export interface ZoneTransition {
  at: number;
  before: number;
  after: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's wall clock at `instant`, as milliseconds of a UTC clock showing the same digits. */
function wallMs(instant: number, zone: string): number {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, format);
  }
  const part: Record<string, number> = {};
  for (const { type, value } of format.formatToParts(instant)) part[type] = Number(value);
  return Date.UTC(part.year!, part.month! - 1, part.day!, part.hour!, part.minute!, part.second!);
}

const offsetMinutes = (instant: number, zone: string) =>
  Math.round((wallMs(Math.floor(instant / 1000) * 1000, zone) - Math.floor(instant / 1000) * 1000) / MINUTE);

const transitionCache = new Map<string, ZoneTransition[]>();

/** The offset changes of `zone` between two instants (ms), from the zone rules Intl carries. */
export function zoneTransitions(zone: string, from: number, to: number): ZoneTransition[] {
  const key = `${zone}|${from}|${to}`;
  const cached = transitionCache.get(key);
  if (cached) return cached;
  const found: ZoneTransition[] = [];
  // Zones change their offset at most a few times a year, never twice within 12 hours.
  const step = 12 * HOUR;
  let previous = offsetMinutes(from, zone);
  for (let at = from + step; at <= to + step; at += step) {
    const offset = offsetMinutes(at, zone);
    if (offset === previous) continue;
    let low = at - step;
    let high = at;
    while (high - low > 1000) {
      const middle = low + Math.floor((high - low) / 2000) * 1000;
      if (offsetMinutes(middle, zone) === previous) low = middle;
      else high = middle;
    }
    if (high >= from && high <= to) found.push({ at: high, before: previous, after: offset });
    previous = offset;
  }
  if (transitionCache.size > 500) transitionCache.clear();
  transitionCache.set(key, found);
  return found;
}
