/** A calendar-free day: 24 hours of epoch milliseconds (the zone-aware arithmetic lives with the schedules). */
export const DAY_MS = 86_400_000;
