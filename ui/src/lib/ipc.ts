// The one module that talks to @tauri-apps/*. Every call to the Rust core goes through here, and
// every failure arrives as an ErrorPayload with a stable code the UI translates.
//
// The types are generated from the Rust declarations (`companion_core::api`) into
// `bindings/` (one file per Rust module; `commands.ts` holds the map). `call` is typed by their
// `Commands`, so a command's name, arguments and reply here cannot drift from the shell's.
import { invoke } from '@tauri-apps/api/core';
import type {
  Commands,
  EntryKind,
  ErrorPayload,
  Instrument,
  Item,
  ItemAnswer,
  Language,
  NewEntry,
  Preferences,
  QuestionState,
  Scope,
  Treatment,
} from './bindings/index';

export type * from './bindings/index';

/** A question of a form (the Rust `Item`). */
export type QItem = Item;

/** Of several forms of one instrument (shipped first), the one in `lang` if any, else the first. */
export function pickForms(all: Instrument[], lang: string): Instrument[] {
  const out: Instrument[] = [];
  for (const i of all) {
    const at = out.findIndex((o) => o.id === i.id);
    if (at < 0) out.push(i);
    else if (i.questionnaire.language === lang && out[at].questionnaire.language !== lang) out[at] = i;
  }
  return out;
}
export const TREATMENTS: Treatment[] = ['chemotherapy', 'immunotherapy', 'radiotherapy', 'targeted-therapy', 'hormone-therapy'];
export const SCOPES: Scope[] = ['observations', 'questions', 'symptoms', 'checkins'];

export function isErrorPayload(e: unknown): e is ErrorPayload {
  return typeof e === 'object' && e !== null && typeof (e as ErrorPayload).code === 'string';
}

type Args<K extends keyof Commands> = Commands[K]['args'];
type Reply<K extends keyof Commands> = Commands[K]['reply'];

async function call<K extends keyof Commands>(cmd: K, args: Args<K>): Promise<Reply<K>> {
  try {
    return await invoke<Reply<K>>(cmd, args);
  } catch (e) {
    if (isErrorPayload(e)) throw e;
    // A failure of the bridge itself (no core behind it): never show raw text.
    throw { code: 'internal', message: 'ipc failure' } satisfies ErrorPayload;
  }
}

export const api = {
  status: () => call('status', {}),
  touch: () => call('touch', {}),
  setup: (name: string, passphrase: string) =>
    call('setup', { name, passphrase }),
  unlock: (passphrase: string) => call('unlock', { passphrase }),
  recover: (code: string, newPassphrase: string) => call('recover', { code, newPassphrase }),
  lock: () => call('lock', {}),
  changePassphrase: (current: string, newPassphrase: string) =>
    call('change_passphrase', { current, newPassphrase }),
  newRecoveryCode: () => call('new_recovery_code', {}),
  setPreferences: (preferences: Preferences) => call('set_preferences', { preferences }),
  addEntry: (entry: NewEntry) => call('add_entry', { entry }),
  /** Several records from one form, in one transaction: all saved, or none. */
  addEntries: (entries: NewEntry[]) => call('add_entries', { entries }),
  /** The numbers that answer at once, from the shipped ruleset; works while locked. */
  emergencyNumbers: () => call('emergency_numbers', {}),
  /** One form per instrument: the clinic's form in the app's language when it sent one, else the shipped one. */
  instruments: async () => pickForms(await call('instruments', {}), document.documentElement.lang),
  addAssessment: (instrument: Instrument, answers: ItemAnswer[]) =>
    call('add_assessment', {
      instrument: instrument.id,
      answers,
      occurredAt: null,
      questionnaire: `${instrument.questionnaire.url}|${instrument.questionnaire.version}`,
    }),
  careSettings: () => call('care_settings', {}),
  markPlanSeen: (version: string) => call('mark_plan_seen', { version }),
  saveSummaryPdf: (days: number, language: Language) => call('save_summary_pdf', { days, language }),
  setWardPhone: (number: string | null) => call('set_ward_phone', { number }),
  setSchedule: (instrument: string, everyDays: number | null) =>
    call('set_schedule', { instrument, everyDays }),
  setTreatments: (treatments: Treatment[]) => call('set_treatments', { treatments }),
  adviceFor: (id: string) => call('advice_for', { id }),
  /** The advice shown in the last `days` days, newest first. */
  adviceList: (days: number) => call('advice_list', { days }),
  accessLog: () => call('access_log', {}),
  /** "I understand" on these cards, recorded with when and by whom. */
  acknowledgeAdvice: (ids: string[]) => call('acknowledge_advice', { ids }),
  syncStatus: () => call('sync_status', {}),
  pairClinic: (server: string, code: string) => call('pair_clinic', { server, code }),
  syncNow: () => call('sync_now', {}),
  timeline: (kind: EntryKind | null) => call('timeline', { kind }),
  history: (id: string) => call('history', { id }),
  visitSummary: (days: number) => call('visit_summary', { days }),
  correctEntry: (id: string, entry: NewEntry) => call('correct_entry', { id, entry }),
  withdrawEntry: (id: string) => call('withdraw_entry', { id }),
  questions: () => call('questions', {}),
  editQuestion: (id: string, text: string) => call('edit_question', { id, text }),
  setQuestionState: (id: string, questionState: QuestionState, answer: string | null) =>
    call('set_question_state', { id, questionState, answer }),
  reorderQuestions: (ids: string[]) => call('reorder_questions', { ids }),
  setNextVisit: (date: string | null) => call('set_next_visit', { date }),
  carers: () => call('carers', {}),
  addCarer: (name: string, relationship: string, carerPassphrase: string, allow: Scope[], myPassphrase: string, days: number | null) =>
    call('add_carer', {
      name,
      relationship,
      carerPassphrase,
      allow,
      myPassphrase,
      days,
    }),
  removeCarer: (name: string) => call('remove_carer', { name }),
  inviteCarer: (name: string, relationship: string | null, allow: Scope[], days: number | null) =>
    call('invite_carer', { name, relationship, allow, days }),
  shareCheckin: (id: string) => call('share_checkin', { id }),
  joinAsCarer: (server: string, code: string, passphrase: string) =>
    call('join_as_carer', { server, code, passphrase }),
  createBackup: () => call('create_backup', {}),
  backups: () => call('backups', {}),
  restoreBackup: (file: string, passphrase: string) => call('restore_backup', { file, passphrase }),
  setAsideDiary: () => call('set_aside_diary', {}),
};
