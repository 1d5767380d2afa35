/** The zone's wall clock at `instant`, field by field (two digits, 24-hour). */
export function wallClockParts(
  instant: number | Date,
  timeZone: string,
): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', string> {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    year: part('year'),
    month: part('month'),
    day: part('day'),
    hour: part('hour'),
    minute: part('minute'),
    second: part('second'),
  };
}

/** Milliseconds the zone's wall clock is ahead of UTC at `instant`. */
function zoneOffsetMs(instant: number, timeZone: string): number {
  const wall = wallClockParts(instant, timeZone);
  const wallClockAsUtc = Date.UTC(+wall.year, +wall.month - 1, +wall.day, +wall.hour, +wall.minute, +wall.second);
  return wallClockAsUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a calendar date begins in `timeZone` (`2027-03-01` in Europe/Berlin is
 * 2027-02-28T23:00:00Z). Where midnight does not exist (a DST jump), the first instant after it.
 */
export function startOfDayInZone(date: string, timeZone: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) throw new RangeError(`not a calendar date: ${date}`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const wallMidnight = Date.UTC(year, month - 1, day);
  const check = new Date(wallMidnight);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new RangeError(`not a calendar date: ${date}`);
  }
  let instant = wallMidnight - zoneOffsetMs(wallMidnight, timeZone);
  // The offset at the guess can differ from the offset at the answer across a DST change.
  instant = wallMidnight - zoneOffsetMs(instant, timeZone);
  return new Date(instant);
}

const RFC3339_INSTANT = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The years (UTC) an instant the API takes may fall in. */
export const MIN_INSTANT_YEAR = 1900;
export const MAX_INSTANT_YEAR = 9999;

/** An RFC 3339 instant with an offset that names a real moment: no leap second, no 24:00, no Feb 30, years 1900-9999 (UTC). */
export function isInstant(value: string): boolean {
  if (!RFC3339_INSTANT.test(value)) return false;
  const [date, time] = [value.slice(0, 10), value.slice(11, 19)];
  const [hour, minute, second] = time.split(':').map(Number) as [number, number, number];
  if (hour > 23 || minute > 59 || second > 59) return false;
  const parsed = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== date) return false;
  const instant = Date.parse(value);
  // Past year 9999 (an offset can carry 9999-12-31 there) ISO text needs an extended year PostgreSQL
  // does not read; before 1900 two-digit-year rules of date libraries start to bite. Neither is a
  // date a controlled document or a job can mean.
  const year = new Date(instant).getUTCFullYear();
  return Number.isFinite(instant) && year >= MIN_INSTANT_YEAR && year <= MAX_INSTANT_YEAR;
}

/** A timestamp column as the ISO 8601 text the API and activity results carry, `null` kept. */
export const isoOrNull = (date: Date | null): string | null => date?.toISOString() ?? null;

/** The canonical text form of a UUID, the only one PostgreSQL's uuid type and Temporal's run ids share. */
export const isUuid = (value: string): boolean => CANONICAL_UUID.test(value);
