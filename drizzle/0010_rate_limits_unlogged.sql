-- Write-limit counters need no durability: no WAL for them (a crash forgets the current windows).
ALTER TABLE "rate_limits" SET UNLOGGED;
