// When to look for reactions to an announcement: often while people still see the post,
// then less and less (§13). A post gets most of its replies and likes in its first hours.
//   first poll   5 minutes after posting
//   first day    every 10 minutes
//   first week   every hour
//   first month  every day
//   then         never again
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const PHASES: { until: number; every: number }[] = [
  { until: DAY, every: 10 * MINUTE },
  { until: 7 * DAY, every: HOUR },
  { until: 30 * DAY, every: DAY },
];
export const FIRST_POLL_MS = 5 * MINUTE;

/** The next poll after one made at `now` for a post made at `postedAt`; null once the month is over. */
export function nextPollAt(postedAt: Date, now: Date): Date | null {
  const age = now.getTime() - postedAt.getTime();
  if (age < FIRST_POLL_MS) return new Date(postedAt.getTime() + FIRST_POLL_MS);
  const phase = PHASES.find((p) => age < p.until);
  if (!phase) return null;
  return new Date(Math.min(now.getTime() + phase.every, postedAt.getTime() + 30 * DAY));
}

/** How many polls a post gets over its month (for the README's calls-per-article figures). */
export function pollsPerMonth(): number {
  const start = new Date(0);
  let n = 0;
  for (let at: Date | null = new Date(FIRST_POLL_MS); at; at = nextPollAt(start, at)) n++;
  return n;
}
