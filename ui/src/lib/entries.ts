// Words for one record, shared by the advice card, the summary and the entry cards: what was
// logged ("38.3 °C, feeling unwell", "Pain 6 of 10"), and what a PHQ or GAD form is about.
import { formatNumber, personLabel, t, type Key } from '../i18n/index.svelte';
import type { Author, Entry } from './ipc';

/** The form's name as the timeline writes it ("PHQ-9"). */
export function instrumentName(id: string): string {
  return id.toUpperCase().replace(/^([A-Z]+)(\d)/, '$1-$2');
}

export function symptomName(code: string, other?: string | null): string {
  return code === 'other' && other ? other : t(`symptom.${code}` as Key);
}

/** What a record says, in a few words; `inSentence` for the middle of one ("You logged pain
 *  6 of 10"). A carer's "they seem unwell" stays theirs. */
export function what(e: Entry, inSentence = false): string {
  switch (e.kind) {
    case 'symptom': {
      const name = symptomName(e.symptom, e.other_name);
      const shown = inSentence && e.symptom !== 'other' ? name.charAt(0).toLocaleLowerCase() + name.slice(1) : name;
      return t('what.symptom', { name: shown, value: e.severity });
    }
    case 'temperature': {
      const unwell = e.author.role === 'carer' ? 'what.temperature_unwell_carer' : 'what.temperature_unwell';
      return t(e.feels_unwell ? unwell : 'what.temperature', { value: formatNumber(e.celsius, 1) });
    }
    case 'checkin':
      return t('what.checkin', { value: e.wellbeing });
    case 'assessment':
      return t('what.assessment', { name: instrumentName(e.instrument) });
    default:
      return t('what.question');
  }
}

/** The problem a scored form is about, in words ("anxiety"); null for ESAS-r. */
export function problemOf(instrument: string): string | null {
  if (instrument.startsWith('phq')) return t('problem_name.depression');
  if (instrument.startsWith('gad')) return t('problem_name.anxiety');
  return null;
}

/** What the patient wrote in the first person ("I feel unwell"), as a carer reads it:
 *  "Kari: I feel unwell". The patient sees it as they wrote it; a carer's own entries carry
 *  "Entered by" instead. */
export function said(text: string, author: Author, me: Author | null | undefined): string {
  return me && me.id !== author.id && author.role === 'patient' ? t('entry.says', { name: personLabel(author), text }) : text;
}
