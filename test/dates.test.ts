import { startOfDayInZone } from '../lib/dates';

describe('calendar dates mean midnight in EDMS_TIMEZONE', () => {
  test.each([
    ['2027-03-01', 'UTC', '2027-03-01T00:00:00.000Z'],
    ['2027-03-01', 'Europe/Berlin', '2027-02-28T23:00:00.000Z'],
    ['2027-07-01', 'Europe/Berlin', '2027-06-30T22:00:00.000Z'],
    ['2027-01-15', 'America/New_York', '2027-01-15T05:00:00.000Z'],
    ['2027-03-28', 'Europe/Berlin', '2027-03-27T23:00:00.000Z'],
    ['2027-10-31', 'Europe/Berlin', '2027-10-30T22:00:00.000Z'],
    ['2028-02-29', 'Asia/Tokyo', '2028-02-28T15:00:00.000Z'],
  ])('%s in %s begins at %s', (date, zone, expected) => {
    expect(startOfDayInZone(date, zone).toISOString()).toBe(expected);
  });

  test('impossible dates are refused', () => {
    expect(() => startOfDayInZone('2027-02-30', 'UTC')).toThrow(RangeError);
    expect(() => startOfDayInZone('27-2-1', 'UTC')).toThrow(RangeError);
  });
});
