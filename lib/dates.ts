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
