// Small helpers shared by the forms: errors made in the UI have the same shape as the core's,
// so one path translates both.
import type { ErrorPayload, Problem } from './ipc';

export function invalid(field: string, problem: Problem): ErrorPayload {
  return { code: 'invalid', message: `${field} ${problem.kind}`, field, problem };
}

/** The error if it is about this field, for aria-invalid and the message under the field. */
export function about(err: ErrorPayload | null, field: string): boolean {
  return !!err && err.code === 'invalid' && err.field === field;
}

/** After a refused save, moves focus to the first field marked invalid (or into its group), so
 *  keyboard and screen-reader users land where the problem is. */
export function focusInvalid(root: ParentNode = document) {
  const el = root.querySelector<HTMLElement>('[aria-invalid="true"]');
  const target = el?.matches('fieldset') ? el.querySelector<HTMLElement>('input:checked, input') : el;
  target?.focus();
}

/** `<input type="datetime-local">` value for an instant, in local time. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** RFC 3339 for a local `datetime-local` value; empty text is passed on for the core to name. */
export function fromLocalInput(value: string): string {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}

/** A decimal typed with either a point or a comma; NaN when it is not a number. */
export function parseDecimal(raw: string): number {
  const text = raw.trim().replace(',', '.');
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
}

export const SYMPTOMS = [
  'pain',
  'tiredness',
  'nausea',
  'vomiting',
  'diarrhoea',
  'constipation',
  'poor-appetite',
  'sore-mouth',
  'shortness-of-breath',
  'cough',
  'shivering',
  'sleep-problems',
  'numbness-tingling',
  'skin-changes',
  'chest-pain',
  'collapse',
  'bleeding',
  'other',
] as const;

/** The yes/no details each symptom can carry; the same list as the core's `SymptomCode::flags`. */
export const FLAGS: Record<string, readonly string[]> = {
  vomiting: ['cannot-keep-fluids', 'not-controlled'],
  diarrhoea: ['blood', 'over-24-hours'],
  'shortness-of-breath': ['at-rest', 'severe'],
  cough: ['blood'],
  'sore-mouth': ['cannot-eat-or-drink'],
  pain: ['not-controlled'],
  bleeding: ['heavy'],
};

/** Enter on a checkbox ticks it, as Space does, instead of sending the form. */
export function enterToggles(e: KeyboardEvent) {
  if (e.key !== 'Enter') return;
  e.preventDefault();
  (e.currentTarget as HTMLInputElement).click();
}
