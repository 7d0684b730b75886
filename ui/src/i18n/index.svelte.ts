// The message catalogues and the current language. Every string the UI shows comes from here.
import en from './en.json';
import nb from './nb.json';
import nn from './nn.json';
import type { ErrorPayload, Language } from '../lib/ipc';

export type Key = keyof typeof en;
const catalogues: Record<Language, Record<Key, string>> = { en, nb, nn };

export function systemLanguage(): Language {
  const langs = typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language];
  if (langs.some((l) => /^nn\b/i.test(l))) return 'nn';
  return langs.some((l) => /^(nb|no)\b/i.test(l)) ? 'nb' : 'en';
}

/** The locale for dates and numbers in the current language. */
export function locale(): string {
  return current.lang === 'nb' ? 'nb-NO' : current.lang === 'nn' ? 'nn-NO' : 'en-GB';
}

const current = $state({ lang: 'en' as Language });

export function setLanguage(lang: Language | null) {
  current.lang = lang ?? systemLanguage();
  document.documentElement.lang = current.lang;
}

export function language(): Language {
  return current.lang;
}

export function t(key: Key, params: Record<string, string | number> = {}): string {
  const text = catalogues[current.lang][key] ?? catalogues.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => (name in params ? String(params[name]) : `{${name}}`));
}

/** Whether the catalogue has a text for this key (for optional texts chosen at run time). */
export function has(key: string): key is Key {
  return key in en;
}

/** "Ingrid (daughter)", or just "Ingrid" when no relationship was given. */
export function personLabel(p: { name: string; relationship?: string | null }): string {
  return p.relationship ? `${p.name} (${p.relationship})` : p.name;
}

export function fieldLabel(field: string): string {
  const key = `field.${field}` as Key;
  return key in en ? t(key) : field;
}

/** A person-readable sentence for any error from the core, in the current language. */
export function describe(err: unknown, context?: string): string {
  const e = err as ErrorPayload;
  if (e?.code === 'invalid' && e.field && e.problem) {
    // A message of its own for this field and problem, which says what to do
    // ("This code is not valid or has been used. Ask the clinic for a new one."), in this
    // form's context first (joining as a carer) and then anywhere.
    for (const key of [context && `problem.${context}.${e.field}.${e.problem.kind}`, `problem.${e.field}.${e.problem.kind}`]) {
      if (key && key in en) return t(key as Key);
    }
    const p = e.problem as { kind: string; min?: number; max?: number; expected?: number; optional?: number };
    const kind = p.kind === 'wrong_count' && !p.optional ? 'wrong_count_exact' : p.kind;
    const key = `problem.${kind}` as Key;
    return t(key in en ? key : 'problem.bad_format', {
      field: fieldLabel(e.field),
      min: formatNumber(p.min ?? 0),
      max: formatNumber(p.max ?? 0),
      expected: p.expected ?? 0,
      optional: p.optional ?? 0,
    });
  }
  if (e?.code === 'wrong_passphrase' && e.retry_after_secs) {
    return t('error.wrong_passphrase_wait', { seconds: e.retry_after_secs });
  }
  const key = `error.${e?.code}` as Key;
  return t(key in en ? key : 'error.internal', { seconds: e?.retry_after_secs ?? 0 });
}

export function formatNumber(n: number, digits = 0): string {
  return new Intl.NumberFormat(locale(), {
    minimumFractionDigits: digits,
    maximumFractionDigits: Math.max(digits, 1),
  }).format(n);
}

export function formatDateTime(iso: string): string {
  return new Intl.DateTimeFormat(locale(), {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(iso));
}

/** The day of an instant, in the local time zone ("20 Nov 2026"). */
export function formatDay(iso: string): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(new Date(iso));
}

/** The time of day of an instant, in the local time zone ("14:02"). */
export function formatTime(iso: string): string {
  return new Intl.DateTimeFormat(locale(), { timeStyle: 'short' }).format(new Date(iso));
}

export function formatDate(ymd: string): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'full' }).format(
    new Date(`${ymd}T12:00:00`),
  );
}

/** A day on a chart's time axis ("8 Dec", "8. des."), in the app's language. */
export function formatAxisDay(ms: number): string {
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short' }).format(new Date(ms));
}
