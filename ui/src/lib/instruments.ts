// What the UI shows about a check-in beside its score: PHQ-9 item 9 (never hidden behind the
// total), who completed an ESAS-r, and the short labels of ESAS-r items.
import { t, type Key } from '../i18n/index.svelte';
import type { Entry, Instrument, QItem } from './ipc';

/** PHQ-9's item 9 when it must be marked: answered 1 or more (with the form's answer), or not
 *  answered at all (value null). Null for anything else. */
export function item9(entry: Entry): { value: number | null; answer: string | null } | null {
  if (entry.kind !== 'assessment' || entry.scoring !== 'phq9') return null;
  const value = entry.score.items.find((i) => i.link_id === 'phq9-9')?.value ?? null;
  if (value === 0) return null;
  const a = entry.answers.find((x) => x.link_id === 'phq9-9')?.value;
  return { value, answer: a?.type === 'coding' ? (a.display ?? a.code) : null };
}

/** Who completed an ESAS-r, as the form answered says it ("Family caregiver"). */
export function completedBy(entry: Entry): string | null {
  if (entry.kind !== 'assessment') return null;
  const a = entry.answers.find((x) => x.link_id === 'esas-completed-by')?.value;
  return a?.type === 'coding' ? (a.display ?? a.code) : null;
}

function find(items: QItem[], link: string): QItem | null {
  for (const i of items) {
    if (i.link_id === link) return i;
    const inner = find(i.items, link);
    if (inner) return inner;
  }
  return null;
}

/** The label of an ESAS-r item in charts and result tables: the form's own short label when the
 *  clinic's form has one, else Companion's short name, marked as such ("ESAS-r: tretthet"). */
export function esasLabel(code: string, form?: Instrument | null): string {
  const own = form ? find(form.questionnaire.items, `esas-${code}`)?.short_text : null;
  return own ?? t('trends.esas_item', { name: t(`esas.${code}` as Key) });
}
