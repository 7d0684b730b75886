// Where sync stands, as the screens say it: offline (the last round could not reach the clinic),
// and which of the clinic's answers the person has not looked at yet.
import type { Author, ClinicAnswer, SyncStatus } from './ipc';

/** Why the last round has to wait, if it does: no answer, a busy clinic, or a clinic error. */
export type Wait = 'unreachable' | 'busy' | 'server_error';

export function waiting(s: SyncStatus | null | undefined): Wait | null {
  const outcome = s?.last_round?.outcome;
  if (!s?.paired || s.problem || typeof outcome !== 'object') return null;
  return outcome.later.because ?? 'unreachable';
}

/** The last round could not reach the clinic (it will try again by itself). */
export function offline(s: SyncStatus | null | undefined): boolean {
  return waiting(s) === 'unreachable';
}

// Which answers were seen is kept per person in the webview's storage: answer ids only, never
// what they say.
const key = (p: Author) => `companion.seen-answers.${p.id}`;

function seen(p: Author): string[] {
  try {
    return JSON.parse(localStorage.getItem(key(p)) ?? '[]');
  } catch {
    return [];
  }
}

export function unseenAnswers(p: Author, answers: ClinicAnswer[]): ClinicAnswer[] {
  const known = seen(p);
  return answers.filter((a) => !known.includes(a.id));
}

export function markAnswersSeen(p: Author, answers: ClinicAnswer[]) {
  const all = [...new Set([...seen(p), ...answers.map((a) => a.id)])];
  try {
    localStorage.setItem(key(p), JSON.stringify(all.slice(-500)));
  } catch {
    // Storage full or off: the notice shows again, nothing else is lost.
  }
}
