// Durations as operators write them: `30s`, `10m`, `12h`, `90d` (PREVIEW_TTL, token --expires).
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `10m`, `12h`, `90d` in milliseconds; null for anything else (zero included). */
export function parseDuration(text: string): number | null {
  const m = /^(\d{1,6})\s*([smhd])$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) return null;
  return Number(m[1]) * UNITS[m[2]];
}
