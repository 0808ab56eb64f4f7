// Dates on the desk are shown and entered in the editor's time zone (an IANA name kept in
// the session) and stored in UTC. No library: Intl knows every zone's offset at an instant.

export const ZONES: readonly string[] = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];
export const isZone = (z: unknown): z is string => typeof z === 'string' && ZONES.includes(z);

/** The zone's offset from UTC at `instant`, in ms (east positive). */
function offsetAt(zone: string, instant: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(instant));
  const n = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const wall = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}

/** `2026-12-24T18:30` (an <input type="datetime-local"> value) in `zone` → the UTC instant; null if it is no such time. */
export function localToUtc(local: string, zone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  if (Number.isNaN(wall)) return null;
  // twice: the offset at the first guess may differ from the offset at the answer (a DST change between them)
  let utc = wall - offsetAt(zone, wall);
  utc = wall - offsetAt(zone, utc);
  return new Date(utc);
}

/** The UTC instant as a datetime-local value in `zone`. */
export function utcToLocal(iso: string | Date, zone: string): string {
  const t = new Date(iso).getTime();
  return new Date(t + offsetAt(zone, t)).toISOString().slice(0, 16);
}

/** A readable date and time in `zone`, naming the zone. */
export function showTime(iso: string | Date | null | undefined, zone: string): string {
  if (!iso) return '';
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }).format(new Date(iso));
}
