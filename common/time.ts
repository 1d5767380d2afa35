/** Milliseconds in a day: the unit of every `*_days` setting, counted as 24 h of elapsed time (not calendar days). */
export const DAY_MS = 24 * 60 * 60 * 1000;
