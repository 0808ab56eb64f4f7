import { describe, expect, it } from 'vitest';
import { nextPollAt, pollsPerMonth } from '../../src/social/backfeed/schedule.ts';

const posted = new Date('2026-11-01T12:00:00Z');
const after = (ms: number) => new Date(posted.getTime() + ms);
const MIN = 60_000;

describe('nextPollAt', () => {
  it('polls 5 minutes after posting, then every 10 minutes for a day, hourly for a week, daily for a month, then stops', () => {
    expect(nextPollAt(posted, posted)).toEqual(after(5 * MIN));
    expect(nextPollAt(posted, after(5 * MIN))).toEqual(after(15 * MIN));
    expect(nextPollAt(posted, after(23 * 60 * MIN))).toEqual(after(23 * 60 * MIN + 10 * MIN));
    expect(nextPollAt(posted, after(25 * 60 * MIN))).toEqual(after(26 * 60 * MIN));
    expect(nextPollAt(posted, after(8 * 24 * 60 * MIN))).toEqual(after(9 * 24 * 60 * MIN));
    expect(nextPollAt(posted, after(29.5 * 24 * 60 * MIN))).toEqual(after(30 * 24 * 60 * MIN));
    expect(nextPollAt(posted, after(30 * 24 * 60 * MIN))).toBeNull();
  });

  it('makes about 310 polls in a month', () => {
    // 1 + 143 in the first day, 144 in the rest of the week, 23 daily ones after
    expect(pollsPerMonth()).toBeGreaterThan(300);
    expect(pollsPerMonth()).toBeLessThan(320);
  });
});
