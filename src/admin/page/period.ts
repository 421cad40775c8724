/** The period the frequent questions and the sources show: whole UTC hours, up to the end of this one. */
import type { Period } from "./api";

const hour = 3_600_000;
const day = 24 * hour;

/** The days a period select names ("7d", "30d", …), ending with the current hour; 30 days for any other value. */
export function periodOf(choice: string): Period {
  const days = /^\d+d$/.test(choice) ? Number(choice.slice(0, -1)) : 30;
  const to = Math.floor(Date.now() / hour) * hour + hour;
  return { from: new Date(to - days * day).toISOString(), to: new Date(to).toISOString() };
}
