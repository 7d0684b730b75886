// The one module that talks to @tauri-apps/*. Every call to the Rust core goes through here, and
// every failure arrives as an ErrorPayload with a stable code the UI translates.
import { invoke } from '@tauri-apps/api/core';

export type Role = 'patient' | 'carer';
/** A visit the clinic booked. */
export interface Appointment {
  id: string;
  start: string;
  end: string | null;
  status: string;
  description: string | null;
}

/** The clinic's answer to one of the questions. */
export interface ClinicAnswer {
  id: string;
  question: string;
  text: string;
  sent: string | null;
}

export interface QuestionsReply {
  questions: Entry[];
  next_visit: string | null;
  appointments: Appointment[];
  answers: ClinicAnswer[];
}

export interface Author {
  id: string;
  name: string;
  role: Role;
  relationship?: string;
}
export type Language = 'en' | 'nb' | 'nn';
export interface Preferences {
  language: Language | null;
  idle_lock_minutes: number;
}
export interface Status {
  state: 'new' | 'locked' | 'unlocked';
  wait_secs: number;
  person: Author | null;
  preferences: Preferences;
}
export type EntryKind = 'symptom' | 'temperature' | 'checkin' | 'question' | 'assessment';
export type QuestionState = 'open' | 'asked' | 'answered' | 'archived';
export type RecordStatus = 'final' | 'amended' | 'entered-in-error';

interface EntryBase {
  id: string;
  /** A carer's own check-in they have not shared: only they see it; it is never sent. */
  private?: boolean;
  version: number;
  status: RecordStatus;
  occurred_at: string;
  recorded_at: string;
  updated_at: string;
  author: Author;
  updated_by: Author;
  device: string;
}
export type Entry = EntryBase &
  (
    | { kind: 'symptom'; symptom: string; other_name?: string; severity: number; note: string | null; flags?: string[] }
    | { kind: 'temperature'; celsius: number; note: string | null; feels_unwell?: boolean }
    | { kind: 'checkin'; wellbeing: number; note: string | null }
    | { kind: 'question'; text: string; state: QuestionState; answer: string | null }
    | {
        kind: 'assessment';
        instrument: string;
        scoring: string;
        questionnaire: string;
        answers: ItemAnswer[];
        score: Score;
      }
  );

export type AnswerValue =
  | { type: 'coding'; system?: string | null; code: string; display?: string | null }
  | { type: 'integer'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'string'; value: string };
export interface ItemAnswer {
  link_id: string;
  value: AnswerValue;
}
export interface Score {
  total: number | null;
  max: number;
  band: string | null;
  positive?: boolean | null;
  next?: string | null;
  missing: string[];
  items: { link_id: string; value: number | null; band?: string | null }[];
  subscores?: { code: string; total: number | null; max: number }[];
}
export interface Band {
  code: string;
  min: number;
  max: number;
}
export type ItemType = 'group' | 'display' | 'choice' | 'integer' | 'boolean' | 'string' | 'text';
export interface QItem {
  link_id: string;
  text: string | null;
  /** The form's own short label (SDC shortText), e.g. from the clinic's licensed form. */
  short_text: string | null;
  item_type: ItemType;
  required: boolean;
  options: { system: string | null; code: string; display: string | null; ordinal: number | null }[];
  min: number | null;
  max: number | null;
  enable_when: { question: string; operator: string; answer: AnswerValue }[];
  enable_all: boolean;
  items: QItem[];
}
export interface Instrument {
  id: string;
  scoring: string;
  scored_items: string[];
  max_total: number;
  bands: Band[];
  full_form: string | null;
  questionnaire: { url: string; version: string; title: string; language: string | null; copyright: string | null; items: QItem[] };
}

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
export type Level = 'emergency' | 'crisis' | 'call_now' | 'contact_24h' | 'contact_team' | 'recheck';
export interface Contact {
  role: 'emergency' | 'out_of_hours' | 'helpline' | 'ward' | 'contact_nurse';
  number: string | null;
  /** The clinic's name for the line, when the clinic gave it. */
  name: string | null;
  /** `clinic` (the care team the clinic sent), `patient` (typed by the patient), `ruleset`. */
  source: 'clinic' | 'patient' | 'ruleset';
}
/** Whether a line is staffed now (Norway's time): until when, or when it opens next. */
export interface Staffed {
  open: boolean;
  until: string | null;
  opens_day: string | null;
  opens_at: string | null;
}
export type CareRole = 'ward' | 'contact_nurse' | 'coordinator' | 'gp' | 'out_of_hours' | 'emergency';
export interface CareContact {
  role: CareRole;
  name: string;
  phone: string;
  hours?: { days: string[]; from: string; to: string }[];
  staffed: Staffed;
}
export interface CareTeamNow {
  contacts: CareContact[];
  call_now: { role: string; name: string | null; phone: string; source: 'clinic' | 'patient' | 'ruleset'; ward: Staffed | null };
  own_ward_phone: string | null;
}
export interface PlanInForce {
  treatment: Treatment[];
  schedules: { instrument: string; every_days: number; for_days?: number }[];
  watch_for: string[];
  advice: string[];
  since: string;
  version: string;
  seen: boolean;
}
export interface RulesetStatus {
  id: string;
  version: string;
  source: 'clinic' | 'shipped';
  since: string | null;
  key_fingerprint: string | null;
  refused: { at: string; id: string | null; version: string | null; reason: 'bad_signature' | 'invalid' | 'not_newer'; field: string | null } | null;
}
export interface Advice {
  id: string;
  /** The record it is about, its kind, and whether it has been withdrawn since. */
  entry_id: string;
  record_kind: EntryKind;
  withdrawn: boolean;
  rule: string;
  ruleset: string;
  ruleset_version: string;
  level: Level;
  raised_at: string;
  problems: string[];
  /** Numbers from the ruleset (the ward's from the settings). */
  contacts: Contact[];
  /** For advice about a temperature: the ruleset's fever threshold. */
  fever_from?: number;
  /** Whether the clinic's ward is staffed now, for advice that calls it. */
  ward_staffed?: Staffed;
  /** For "measure again": when the reminder falls due. */
  follow_up_at?: string;
  /** The first "I understand", and every one (the patient's and each carer's own). */
  acknowledged_at: string | null;
  acknowledged_by: Author | null;
  acknowledgements: { at: string; by: Author }[];
  /** For advice about a temperature: the ruleset's low threshold. */
  low_below?: number;
  /** What came back from the clinic, each null until the server said so. */
  sent_at: string | null;
  received_at: string | null;
  taken_at: string | null;
  taken_by: string | null;
  closed_at: string | null;
  outcome: 'self_care' | 'called' | 'referred' | 'emergency' | 'no_action' | 'no_answer' | null;
  message: string | null;
  message_at: string | null;
}
/** Someone at the clinic who opened the record (from the server's audit log). */
export interface Access {
  at: string;
  who: string;
  role: string;
  what: string;
}
/** A "measure your temperature again" reminder not yet done. */
export interface Recheck {
  advice_id: string;
  entry_id: string;
  due_at: string;
  state: 'upcoming' | 'due';
}
export type Treatment = 'chemotherapy' | 'immunotherapy' | 'radiotherapy' | 'targeted-therapy' | 'hormone-therapy';
export const TREATMENTS: Treatment[] = ['chemotherapy', 'immunotherapy', 'radiotherapy', 'targeted-therapy', 'hormone-therapy'];
export interface Saved {
  entry: Entry;
  advice: Advice[];
}
export interface Schedule {
  instrument: string;
  every_days: number;
  last_done: string | null;
  due_at: string;
  state: 'upcoming' | 'due' | 'overdue';
  /** The clinic's going-home plan's (not the patient's to change), or the patient's own. */
  source: 'clinic' | 'patient';
}
export interface SyncStatus {
  paired: boolean;
  server: string | null;
  last_success: string | null;
  pending: number;
  quarantined: number;
  problem: 'revoked' | 'pair_again' | null;
  refused: { item: string; ref_id: string; status: number | null; reason: string | null }[];
  last_round: {
    outcome: 'done' | { later: { retry_after_secs: number; because: 'unreachable' | 'busy' | 'server_error' } } | 'pair_again' | 'revoked';
    sent: number;
    received: number;
    refused: number;
  } | null;
  /** On a carer's own device: the patient they help. */
  carer_of: string | null;
}
export interface CareSettings {
  ward_phone: string | null;
  ruleset: string;
  ruleset_version: string;
  contacts: { emergency: string; out_of_hours: string; helpline: string };
  temperature: { call_at_or_above: number; recheck_from: number; low_below: number; recheck_after_minutes: number };
  schedules: Schedule[];
  assigned: Assignment[];
  treatments: Treatment[];
  may_set_treatments: boolean;
  rechecks: Recheck[];
  treatments_from_clinic: boolean;
  ruleset_status: RulesetStatus;
  care_team: CareTeamNow;
  plan: PlanInForce | null;
}

/** A form the clinic asked for, not yet done. */
export interface Assignment {
  task: string;
  instrument: string;
  questionnaire: string;
  title: string;
  due: string | null;
}

/** What a carer may do: log observations, see and add questions, see symptoms, see check-ins. */
export type Scope = 'observations' | 'questions' | 'symptoms' | 'checkins';
export const SCOPES: Scope[] = ['observations', 'questions', 'symptoms', 'checkins'];

export interface Carer extends Author {
  allow: Scope[];
  added_at: string;
  until: string | null;
}

/** The same symptom rated by the patient and by a carer about the same time, 3+ points apart. */
export interface Disagreement {
  patient: Entry;
  carer: Entry;
  difference: number;
}

/** One kind of reading over a period; `peak` is the one that matters most (see the core's `Series`). */
export interface Series {
  reports: number;
  peak: number;
  peak_at: string;
  latest: number;
  latest_at: string;
}

/** What each person reported over a period, apart; see the core's `VisitSummary`. */
export interface VisitSummary {
  since: string;
  until: string;
  people: {
    person: Author;
    symptoms: ({ symptom: string; other_name?: string } & Series)[];
    temperature: Series | null;
    wellbeing: Series | null;
    checkins: { instrument: string; completed: number; latest: Score; latest_at: string }[];
    /** PHQ-9s whose item 9 was answered 1 or more, or left unanswered (value null). */
    item9: { entry_id: string; at: string; value: number | null; answer: string | null; withdrawn: boolean }[];
  }[];
  /** The advice shown in the period, newest first; withdrawn records' advice marked. */
  advice: Advice[];
  questions: Entry[];
  seen_differently: Disagreement[];
}

export interface CarersReply {
  me: Author;
  patient: Author;
  owner: boolean;
  allowed: Scope[];
  carers: Carer[];
  /** Carers invited to their own device. */
  invited: { id: string; name: string; relationship: string | null; allow: Scope[]; expires_at: string | null }[];
  disagreements: Disagreement[];
  can_invite: boolean;
}

export interface Invitation {
  code: string;
  carer: string;
  expires_at: string | null;
}

export type NewEntry =
  | {
      kind: 'symptom';
      symptom: string;
      other_name?: string | null;
      severity: number;
      note?: string | null;
      occurred_at?: string | null;
      flags?: string[];
    }
  | { kind: 'temperature'; celsius: number; note?: string | null; occurred_at?: string | null; feels_unwell?: boolean }
  | { kind: 'checkin'; wellbeing: number; note?: string | null; occurred_at?: string | null }
  | { kind: 'question'; text: string };

export type Problem =
  | { kind: 'required' | 'unknown' | 'in_future' | 'too_old' | 'bad_format' | 'mismatch' | 'not_allowed' | 'untrusted' }
  | { kind: 'out_of_range'; min: number; max: number }
  | { kind: 'too_long'; max: number }
  | { kind: 'too_short'; min: number }
  | { kind: 'wrong_count'; expected: number; optional: number };

/** A backup of the whole diary; `file` is its name in the backups folder (or its path, once made). */
export interface BackupInfo {
  file: string;
  created_at: string;
  bytes: number;
  /** Records when it was made; -1 when only the file's header was read. */
  records: number;
}

export interface ErrorPayload {
  code: string;
  message: string;
  field?: string;
  problem?: Problem;
  retry_after_secs?: number;
}

export function isErrorPayload(e: unknown): e is ErrorPayload {
  return typeof e === 'object' && e !== null && typeof (e as ErrorPayload).code === 'string';
}

async function call<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    if (isErrorPayload(e)) throw e;
    // A failure of the bridge itself (no core behind it): never show raw text.
    throw { code: 'internal', message: 'ipc failure' } satisfies ErrorPayload;
  }
}

export const api = {
  status: () => call<Status>('status'),
  touch: () => call<boolean>('touch'),
  setup: (name: string, passphrase: string) =>
    call<{ recovery_code: string; person: Author }>('setup', { name, passphrase }),
  unlock: (passphrase: string) => call<Author>('unlock', { passphrase }),
  recover: (code: string, newPassphrase: string) => call<Author>('recover', { code, newPassphrase }),
  lock: () => call<void>('lock'),
  changePassphrase: (current: string, newPassphrase: string) =>
    call<void>('change_passphrase', { current, newPassphrase }),
  newRecoveryCode: () => call<string>('new_recovery_code'),
  setPreferences: (preferences: Preferences) => call<Preferences>('set_preferences', { preferences }),
  addEntry: (entry: NewEntry) => call<Saved>('add_entry', { entry }),
  /** Several records from one form, in one transaction: all saved, or none. */
  addEntries: (entries: NewEntry[]) => call<Saved[]>('add_entries', { entries }),
  /** The numbers that answer at once, from the shipped ruleset; works while locked. */
  emergencyNumbers: () => call<CareSettings['contacts']>('emergency_numbers'),
  /** One form per instrument: the clinic's form in the app's language when it sent one, else the shipped one. */
  instruments: async () => pickForms(await call<Instrument[]>('instruments'), document.documentElement.lang),
  addAssessment: (instrument: Instrument, answers: ItemAnswer[]) =>
    call<Saved>('add_assessment', {
      instrument: instrument.id,
      answers,
      occurredAt: null,
      questionnaire: `${instrument.questionnaire.url}|${instrument.questionnaire.version}`,
    }),
  careSettings: () => call<CareSettings>('care_settings'),
  markPlanSeen: (version: string) => call<CareSettings>('mark_plan_seen', { version }),
  saveSummaryPdf: (days: number, language: Language) => call<string>('save_summary_pdf', { days, language }),
  setWardPhone: (number: string | null) => call<CareSettings>('set_ward_phone', { number }),
  setSchedule: (instrument: string, everyDays: number | null) =>
    call<CareSettings>('set_schedule', { instrument, everyDays }),
  setTreatments: (treatments: Treatment[]) => call<CareSettings>('set_treatments', { treatments }),
  adviceFor: (id: string) => call<Advice[]>('advice_for', { id }),
  /** The advice shown in the last `days` days, newest first. */
  adviceList: (days: number) => call<Advice[]>('advice_list', { days }),
  accessLog: () => call<Access[]>('access_log'),
  /** "I understand" on these cards, recorded with when and by whom. */
  acknowledgeAdvice: (ids: string[]) => call<Advice[]>('acknowledge_advice', { ids }),
  syncStatus: () => call<SyncStatus>('sync_status'),
  pairClinic: (server: string, code: string) => call<SyncStatus>('pair_clinic', { server, code }),
  syncNow: () => call<SyncStatus>('sync_now'),
  timeline: (kind: EntryKind | null) => call<Entry[]>('timeline', { kind }),
  history: (id: string) => call<Entry[]>('history', { id }),
  visitSummary: (days: number) => call<VisitSummary>('visit_summary', { days }),
  correctEntry: (id: string, entry: NewEntry) => call<Saved>('correct_entry', { id, entry }),
  withdrawEntry: (id: string) => call<Entry>('withdraw_entry', { id }),
  questions: () => call<QuestionsReply>('questions'),
  editQuestion: (id: string, text: string) => call<Entry>('edit_question', { id, text }),
  setQuestionState: (id: string, questionState: QuestionState, answer: string | null) =>
    call<Entry>('set_question_state', { id, questionState, answer }),
  reorderQuestions: (ids: string[]) => call<Entry[]>('reorder_questions', { ids }),
  setNextVisit: (date: string | null) => call<string | null>('set_next_visit', { date }),
  carers: () => call<CarersReply>('carers'),
  addCarer: (name: string, relationship: string, carerPassphrase: string, allow: Scope[], myPassphrase: string, days: number | null) =>
    call<{ carers: CarersReply; new_recovery_code: string | null }>('add_carer', {
      name,
      relationship,
      carerPassphrase,
      allow,
      myPassphrase,
      days,
    }),
  removeCarer: (name: string) => call<CarersReply>('remove_carer', { name }),
  inviteCarer: (name: string, relationship: string | null, allow: Scope[], days: number | null) =>
    call<Invitation>('invite_carer', { name, relationship, allow, days }),
  shareCheckin: (id: string) => call<Entry>('share_checkin', { id }),
  joinAsCarer: (server: string, code: string, passphrase: string) =>
    call<{ recovery_code: string; person: Author }>('join_as_carer', { server, code, passphrase }),
  createBackup: () => call<BackupInfo>('create_backup'),
  backups: () => call<{ folder: string; backups: BackupInfo[]; damaged: string[] }>('backups'),
  restoreBackup: (file: string, passphrase: string) => call<Author>('restore_backup', { file, passphrase }),
  setAsideDiary: () => call<string>('set_aside_diary'),
};
