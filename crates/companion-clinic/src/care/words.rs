//! The care team's pages in English and Bokmål: the strings, the language a request gets, and
//! what an alert reports, in words. Symptom names come from the app's own catalogue, so the
//! nurse and the patient read the same name.

use crate::db::triage::{Alert, Outcome, Report};
use companion_core::domain::EntryData;
use companion_core::instruments::AnswerValue;
use serde_json::Value;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Nb,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nb => "nb",
        }
    }
    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "nb" | "no" | "nn" | "nb-no" | "no-no" => Some(Lang::Nb),
            _ => None,
        }
    }
    /// From an `Accept-Language` header: the first language we have.
    pub fn from_header(header: &str) -> Lang {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .find_map(|tag| {
                let primary = tag.trim().split('-').next().unwrap_or("");
                match primary.to_ascii_lowercase().as_str() {
                    "nb" | "no" | "nn" => Some(Lang::Nb),
                    "en" => Some(Lang::En),
                    _ => None,
                }
            })
            .unwrap_or(Lang::En)
    }
}

/// (key, English, Bokmål)
const STRINGS: &[(&str, &str, &str)] = &[
    ("app", "Companion care team", "Companion omsorgsteam"),
    ("skip", "Skip to the main content", "Gå til hovedinnholdet"),
    ("nav", "Main menu", "Hovedmeny"),
    ("worklist", "Worklist", "Arbeidsliste"),
    ("workload", "Workload", "Arbeidsmengde"),
    ("admin", "Administration", "Administrasjon"),
    ("sign_in", "Sign in", "Logg inn"),
    ("sign_out", "Sign out", "Logg ut"),
    ("signed_in_as", "Signed in as", "Logget inn som"),
    ("name", "Name", "Navn"),
    ("password", "Password", "Passord"),
    ("sign_in_failed", "The name or the password is wrong.", "Navnet eller passordet er feil."),
    ("sign_in_throttled", "Too many attempts. Wait {secs} seconds and try again.", "For mange forsøk. Vent {secs} sekunder og prøv igjen."),
    ("session_ended", "You were signed out. Sign in again to go on.", "Du ble logget ut. Logg inn igjen for å fortsette."),
    ("language", "Language", "Språk"),
    ("role.nurse", "Nurse", "Sykepleier"),
    ("role.coordinator", "Coordinator", "Koordinator"),
    ("role.admin", "Administrator", "Administrator"),
    ("role.integration", "A clinic system", "Et system på klinikken"),
    ("filters", "Show", "Vis"),
    ("filter.open", "All open", "Alle åpne"),
    ("filter.mine", "Mine", "Mine"),
    ("filter.unassigned", "Not taken", "Ikke tatt"),
    ("filter.stat", "Call now", "Ring nå"),
    ("filter.asap", "Within 24 hours", "Innen 24 timer"),
    ("filter.routine", "Tell the team", "Si fra til teamet"),
    ("filter.closed", "Closed today", "Lukket i dag"),
    ("alerts_count", "Alerts: {n}", "Varsler: {n}"),
    ("no_alerts", "No alerts here.", "Ingen varsler her."),
    ("col.patient", "Patient", "Pasient"),
    ("col.level", "Level", "Nivå"),
    ("col.what", "What was reported", "Hva som ble meldt"),
    ("col.who", "Reported by", "Meldt av"),
    ("col.when", "When", "Når"),
    ("col.due", "Time left", "Tid igjen"),
    ("col.state", "State", "Status"),
    ("level.emergency", "Emergency", "Nødsituasjon"),
    ("level.crisis", "Crisis (mental health)", "Krise (psykisk helse)"),
    ("level.call_now", "Call now", "Ring nå"),
    ("level.contact_24h", "Contact within 24 hours", "Kontakt innen 24 timer"),
    ("level.contact_team", "Tell the team", "Si fra til teamet"),
    ("priority.stat", "Urgent", "Haster"),
    ("priority.asap", "Soon", "Snart"),
    ("priority.routine", "Routine", "Rutine"),
    ("state.requested", "New", "Ny"),
    ("state.accepted", "Taken by {who}", "Tatt av {who}"),
    ("state.completed", "Closed", "Lukket"),
    ("state.no_answer", "Tried to call, no answer", "Prøvde å ringe, fikk ikke svar"),
    ("patient", "the patient", "pasienten"),
    ("carer", "{name} (carer)", "{name} (pårørende)"),
    ("left", "{t} left", "{t} igjen"),
    ("overdue", "Overdue by {t}", "Forsinket med {t}"),
    ("minutes", "{n} min", "{n} min"),
    ("hours", "{h} h {m} min", "{h} t {m} min"),
    ("days", "{d} d {h} h", "{d} d {h} t"),
    ("open_alert", "Open", "Åpne"),
    ("new_alert", "The worklist was updated.", "Arbeidslisten ble oppdatert."),
    ("alert", "Alert", "Varsel"),
    ("reported", "Reported", "Meldt"),
    ("received", "Received by the clinic", "Mottatt av klinikken"),
    ("due", "Respond by", "Svar innen"),
    ("taken", "Taken", "Tatt"),
    ("closed", "Closed", "Lukket"),
    ("outcome", "Outcome", "Utfall"),
    ("take", "Take this alert", "Ta dette varselet"),
    ("taken_by_other", "{who} has taken this alert.", "{who} har tatt dette varselet."),
    ("note", "Note what was done", "Noter hva som ble gjort"),
    ("save_note", "Save the note", "Lagre notatet"),
    ("close", "Close the alert", "Lukk varselet"),
    ("close_legend", "How was it handled?", "Hvordan ble det håndtert?"),
    ("message", "Message to the patient (optional)", "Melding til pasienten (valgfritt)"),
    ("message_hint", "The patient sees this in the app after the next sync.", "Pasienten ser dette i appen etter neste synkronisering."),
    ("steps", "What has been done", "Hva som er gjort"),
    ("step.received", "Received from the patient's device", "Mottatt fra pasientens enhet"),
    ("step.taken", "Taken by {who}", "Tatt av {who}"),
    ("step.note", "Note by {who}", "Notat av {who}"),
    ("step.closed", "Closed by {who}: {outcome}", "Lukket av {who}: {outcome}"),
    ("step.no_answer", "{who}: could not reach the patient", "{who}: fikk ikke tak i pasienten"),
    ("step.message", "Message sent to the patient", "Melding sendt til pasienten"),
    (
        "conflict",
        "Someone else changed this alert just now. Here it is as it stands; try again.",
        "Noen andre endret dette varselet akkurat nå. Her er det slik det står; prøv igjen.",
    ),
    ("too_long", "The text is too long (at most {n} characters).", "Teksten er for lang (høyst {n} tegn)."),
    ("choose_outcome", "Choose how it was handled.", "Velg hvordan det ble håndtert."),
    ("not_found", "There is no such page.", "Siden finnes ikke."),
    ("forbidden", "Your role does not give access to this page.", "Rollen din gir ikke tilgang til denne siden."),
    ("refused", "The request was refused: it did not come from this page.", "Forespørselen ble avvist: den kom ikke fra denne siden."),
    ("error", "Something went wrong on the server. Try again.", "Noe gikk galt på serveren. Prøv igjen."),
    ("back", "Back to the worklist", "Tilbake til arbeidslisten"),
    ("outcome.self_care", "Self-care advice given", "Råd om egenomsorg gitt"),
    ("outcome.called", "Called the patient", "Ringte pasienten"),
    ("outcome.referred", "Referred to the acute oncology service or the ward", "Henvist til akutt onkologi eller posten"),
    ("outcome.emergency", "Emergency services", "Nødetatene"),
    ("outcome.no_action", "No action needed", "Ingen tiltak nødvendig"),
    ("outcome.no_answer", "Could not reach the patient, try again", "Fikk ikke tak i pasienten, prøv igjen"),
    ("targets", "Response targets", "Svarfrister"),
    ("target.call_now", "Call now and emergencies", "Ring nå og nødsituasjoner"),
    ("target.contact_24h", "Contact within 24 hours", "Kontakt innen 24 timer"),
    ("target.tell_team", "Tell the team", "Si fra til teamet"),
    (
        "target_hint",
        "Minutes (60m), hours (24h), days (2d) or working days (3wd).",
        "Minutter (60m), timer (24h), dager (2d) eller virkedager (3wd).",
    ),
    ("save", "Save", "Lagre"),
    ("saved", "Saved.", "Lagret."),
    ("accounts", "Accounts", "Kontoer"),
    ("role", "Role", "Rolle"),
    ("wl.open", "Open alerts by level", "Åpne varsler etter nivå"),
    ("wl.period", "Last {n} days", "Siste {n} dager"),
    ("wl.alerts", "Alerts", "Varsler"),
    ("wl.take_median", "Time to take, median", "Tid til tatt, median"),
    ("wl.take_p90", "Time to take, 90th percentile", "Tid til tatt, 90. persentil"),
    ("wl.close_median", "Time to close, median", "Tid til lukket, median"),
    ("wl.close_p90", "Time to close, 90th percentile", "Tid til lukket, 90. persentil"),
    ("wl.within", "Closed within target", "Lukket innen fristen"),
    ("wl.per_patient", "Alerts per patient per week", "Varsler per pasient per uke"),
    ("wl.none", "none yet", "ingen ennå"),
    ("all_levels", "All levels", "Alle nivåer"),
    ("r.temperature", "Temperature {t} °C", "Temperatur {t} °C"),
    ("r.unwell", "feels unwell", "føler seg uvel"),
    ("r.severity", "{s} of 10", "{s} av 10"),
    ("r.total", "total {n}", "sum {n}"),
    ("r.item", "item {n}", "spørsmål {n}"),
    ("r.rule", "Rule {rule}", "Regel {rule}"),
    ("r.wellbeing", "Wellbeing", "Velvære"),
    ("r.question", "Question", "Spørsmål"),
    ("patients", "Patients", "Pasienter"),
    ("find_patient", "Find a patient by name", "Finn en pasient etter navn"),
    ("find", "Find", "Finn"),
    ("no_patients", "No patient has that name.", "Ingen pasient har det navnet."),
    ("open_alerts", "{n} open alerts", "{n} åpne varsler"),
    ("register", "Register a patient", "Registrer en pasient"),
    ("patient_name", "The patient's name", "Pasientens navn"),
    ("patient_name_bad", "The name must be 1 to 100 characters.", "Navnet må være 1 til 100 tegn."),
    ("register_button", "Register and show the pairing code", "Registrer og vis paringskoden"),
    ("code_for", "Pairing code for {name}", "Paringskode for {name}"),
    ("code_intro", "The patient types this code in Companion (Settings, Clinic) to connect their diary. It works once, for {hours} hours. Print this page or show it on screen; it is not shown again.", "Pasienten skriver inn denne koden i Companion (Innstillinger, Klinikk) for å koble til dagboken. Den virker én gang, i {hours} timer. Skriv ut siden eller vis den på skjermen; den vises ikke igjen."),
    ("pairing_code", "Pairing code", "Paringskode"),
    ("server_address", "The clinic's address", "Klinikkens adresse"),
    ("qr_label", "QR code with the clinic's address and the code {code}", "QR-kode med klinikkens adresse og koden {code}"),
    ("qr_caption", "The same, as a QR code: the clinic's address and the code.", "Det samme som QR-kode: klinikkens adresse og koden."),
    ("to_patient", "Go to the patient's page", "Gå til pasientens side"),
    ("new_code", "Make a new pairing code (another device)", "Lag en ny paringskode (en annen enhet)"),
    ("registered", "Registered", "Registrert"),
    ("alerts", "Alerts", "Varsler"),
    ("questions", "Questions for the next visit", "Spørsmål til neste time"),
    ("no_questions", "No open questions.", "Ingen åpne spørsmål."),
    ("answer", "Answer", "Svar"),
    ("send_answer", "Send the answer", "Send svaret"),
    ("answered", "Answered by the clinic", "Besvart av klinikken"),
    ("appointments", "Appointments", "Timer"),
    ("no_appointments", "No appointments booked.", "Ingen timer bestilt."),
    ("book", "Book an appointment", "Bestill en time"),
    ("start", "Starts (Norwegian time)", "Starter (norsk tid)"),
    ("minutes_long", "Length in minutes", "Varighet i minutter"),
    ("what_for", "What it is for (the patient sees this)", "Hva timen gjelder (pasienten ser dette)"),
    ("book_button", "Book", "Bestill"),
    ("move", "Move to", "Flytt til"),
    ("move_button", "Move", "Flytt"),
    ("cancel", "Cancel the appointment", "Avlys timen"),
    ("appointment_bad", "Give a start time (date and time) and a length of 5 to 480 minutes.", "Oppgi starttid (dato og klokkeslett) og en varighet på 5 til 480 minutter."),
    ("records", "What the patient and carers recorded", "Hva pasienten og pårørende har registrert"),
    ("no_records", "Nothing recorded yet.", "Ingenting registrert ennå."),
    ("withdrawn", "withdrawn (entered in error)", "trukket tilbake (registrert ved en feil)"),
    ("trends", "Trends, last 90 days", "Utvikling, siste 90 dager"),
    ("by", "Recorded by {who}", "Registrert av {who}"),
    ("temperatures", "Temperature", "Temperatur"),
    ("fever_line", "At or above {t} °C (the fever line) is marked ⚑.", "Fra {t} °C (febergrensen) er merket ⚑."),
    ("esas_mark", "Scores of 3 or more are marked ●.", "Verdier på 3 eller mer er merket ●."),
    ("item9_mark", "Item 9 (thoughts of being better off dead or of hurting oneself) at 1 or more is marked ⚑.", "Spørsmål 9 (tanker om at det er bedre å være død, eller om å skade seg selv) på 1 eller mer er merket ⚑."),
    ("bands", "Bands: {bands}.", "Grenser: {bands}."),
    ("date", "Date", "Dato"),
    ("value", "Value", "Verdi"),
    ("total", "Total", "Sum"),
    ("band", "Band", "Nivå"),
    ("item9", "Item 9", "Spørsmål 9"),
    ("no_trend", "Nothing in the last 90 days.", "Ingenting de siste 90 dagene."),
    ("devices", "Devices and carers", "Enheter og pårørende"),
    ("device_patient", "The patient's device, paired", "Pasientens enhet, koblet til"),
    ("device_carer", "{name}'s own device, paired", "{name}s egen enhet, koblet til"),
    ("revoked", "revoked", "tilbakekalt"),
    ("may_see", "May see and do: {scopes}", "Kan se og gjøre: {scopes}"),
    ("until", "until", "til"),
    ("revoke_carer", "End {name}'s access", "Avslutt tilgangen til {name}"),
    ("no_carers", "No carers invited.", "Ingen pårørende invitert."),
    ("scope.observations", "log what they see", "registrere det de ser"),
    ("scope.questions", "questions", "spørsmål"),
    ("scope.symptoms", "symptoms and temperatures", "symptomer og temperaturer"),
    ("scope.checkins", "check-ins", "egenvurderinger"),
    ("looked", "Who has opened this record", "Hvem som har åpnet journalen"),
    ("reasons", "Reasons given to open it", "Begrunnelser for å åpne den"),
    ("nobody", "No one yet.", "Ingen ennå."),
    ("reason_title", "Why do you need to open this record?", "Hvorfor trenger du å åpne denne journalen?"),
    ("reason_intro", "{name} has no alert and no appointment with this clinic. Access to a patient's record needs a work-related reason (Normen). Your reason is logged and shown to the coordinator.", "{name} har ikke noe varsel og ingen time ved denne klinikken. Tilgang til en pasients journal krever et tjenstlig behov (Normen). Begrunnelsen din logges og vises for koordinatoren."),
    ("reason", "Reason", "Begrunnelse"),
    ("reason_button", "Open the record", "Åpne journalen"),
    ("reason_bad", "Give a reason of 5 to 500 characters.", "Oppgi en begrunnelse på 5 til 500 tegn."),
    ("forms", "Forms", "Skjemaer"),
    ("summary", "Summary for the visit, last 14 days", "Oppsummering til timen, siste 14 dager"),
    ("s.item9", "PHQ-9 item 9: {answer}", "PHQ-9 spørsmål 9: {answer}"),
    ("s.series", "reports: {n}; worst {peak} of 10; latest {latest}", "registreringer: {n}; verst {peak} av 10; sist {latest}"),
    ("s.temperature", "readings: {n}; highest {peak} °C; latest {latest} °C", "målinger: {n}; høyest {peak} °C; sist {latest} °C"),
    ("s.wellbeing", "check-ins: {n}; lowest {peak} of 10; latest {latest}", "registreringer: {n}; lavest {peak} av 10; sist {latest}"),
    ("s.checkin", "completed: {n}; latest", "utfylt: {n}; sist"),
    ("s.differ", "Seen differently", "Vurdert ulikt"),
    ("s.differ_item", "{carer} rated {symptom} {theirs}, the patient {mine}", "{carer} vurderte {symptom} til {theirs}, pasienten til {mine}"),
    ("no_forms", "The clinic has not asked for any form.", "Klinikken har ikke bedt om noe skjema."),
    ("ask_form", "Ask the patient to fill in", "Be pasienten fylle ut"),
    ("form_due", "Due by (optional)", "Frist (valgfritt)"),
    ("form_due_at", "due", "frist"),
    ("ask_button", "Ask for it", "Be om det"),
    ("plan_title", "Going-home plan", "Plan for hjemreisen"),
    ("plan_none", "No plan yet. The form below starts from the clinic's template.", "Ingen plan ennå. Skjemaet under starter fra klinikkens mal."),
    ("plan_since", "In force since", "Gjelder fra"),
    ("plan_treatment", "Treatment", "Behandling"),
    ("plan_checkins", "Check-ins the patient is asked for", "Registreringer pasienten blir bedt om"),
    ("plan_every", "Every (days; empty: not asked for)", "Hver (dager; tomt: ikke bedt om)"),
    ("plan_for", "For the first (days; empty: while the plan is in force)", "De første (dager; tomt: så lenge planen gjelder)"),
    ("plan_watch", "What to watch for (one per line)", "Hva pasienten skal følge med på (én per linje)"),
    ("plan_advice", "Self-care advice (one per line)", "Råd om egenomsorg (ett per linje)"),
    ("plan_save", "Save the plan and send it to the patient's devices", "Lagre planen og send den til pasientens enheter"),
    ("plan_bad", "The plan was not saved", "Planen ble ikke lagret"),
    ("plan_every_days", "every {days} days", "hver {days}. dag"),
    ("plan_for_days", "for the first {days} days", "de første {days} dagene"),
    ("temperature", "Temperature", "Temperatur"),
    ("rules_title", "Safety rules sent to the devices", "Sikkerhetsregler sendt til enhetene"),
    ("rules_published", "The clinic's rules {id} version {version}, published", "Klinikkens regler {id} versjon {version}, publisert"),
    ("rules_none", "None published: the devices use the rules shipped with the app.", "Ingen publisert: enhetene bruker reglene som følger med appen."),
    ("key_fingerprint", "The clinic's signing key (devices show the same):", "Klinikkens signeringsnøkkel (enhetene viser den samme):"),
    ("contacts_title", "The care team's contacts on the devices", "Behandlingsteamets kontakter på enhetene"),
    ("contacts_none", "None yet: the devices show only the national numbers and a number the patient typed.", "Ingen ennå: enhetene viser bare de nasjonale numrene og et nummer pasienten skrev inn."),
    ("always_staffed", "always staffed", "alltid bemannet"),
    ("going_home_cli", "Change them on the server with companion-clinic ruleset publish --file and contacts set --file, which check and sign them.", "Endre dem på serveren med companion-clinic ruleset publish --file og contacts set --file, som kontrollerer og signerer dem."),
    ("summary_pdf", "Print the summary for the visit (PDF)", "Skriv ut oppsummeringen til timen (PDF)"),
    ("template_watch_fever", "A temperature of 38.0 °C or more, shivering, or feeling unwell: call the ward now, day or night.", "Temperatur 38,0 °C eller mer, frysninger eller å føle seg uvel: ring avdelingen nå, uansett tid på døgnet."),
    ("template_watch_gut", "Vomiting you cannot stop, or diarrhoea more than 4 times a day: call the ward now.", "Oppkast som ikke stopper, eller diaré mer enn 4 ganger om dagen: ring avdelingen nå."),
    ("template_watch_breath", "Chest pain or severe breathlessness: call 113.", "Brystsmerter eller sterk tungpust: ring 113."),
    ("template_advice_drink", "Drink at least 2 litres a day, more if you have diarrhoea.", "Drikk minst 2 liter om dagen, mer hvis du har diaré."),
    ("template_advice_mouth", "Rinse your mouth with water after meals and use a soft toothbrush.", "Skyll munnen med vann etter måltider og bruk en myk tannbørste."),
    ("form_bad", "Choose a form, and a due date as a date.", "Velg et skjema, og en frist som en dato."),
    ("task.requested", "asked for", "bedt om"),
    ("task.accepted", "asked for", "bedt om"),
    ("task.in-progress", "in progress", "pågår"),
    ("task.completed", "filled in", "fylt ut"),
    ("task.cancelled", "withdrawn", "trukket tilbake"),
    ("task.rejected", "declined", "avslått"),
    ("task.entered-in-error", "entered in error", "registrert ved en feil"),
    ("flag.cannot-keep-fluids", "cannot keep fluids down", "klarer ikke å holde på væske"),
    ("flag.not-controlled", "not controlled by medicine", "medisiner hjelper ikke"),
    ("flag.blood", "with blood", "med blod"),
    ("flag.over-24-hours", "for over 24 hours", "i mer enn 24 timer"),
    ("flag.at-rest", "at rest", "også i hvile"),
    ("flag.severe", "severe", "alvorlig"),
    ("flag.cannot-eat-or-drink", "cannot eat or drink", "klarer ikke å spise eller drikke"),
    ("flag.heavy", "heavy, does not stop", "kraftig, stopper ikke"),
];

pub fn t(lang: Lang, key: &str) -> &'static str {
    STRINGS.iter().find(|(k, _, _)| *k == key).map(|(_, en, nb)| if lang == Lang::Nb { *nb } else { *en }).unwrap_or("")
}

/// A string with `{name}` placeholders filled in.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(lang, key).to_owned();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

/// The app's catalogue for a language (symptom names).
fn catalogue(lang: Lang) -> &'static Value {
    static EN: OnceLock<Value> = OnceLock::new();
    static NB: OnceLock<Value> = OnceLock::new();
    let (cell, text) = match lang {
        Lang::En => (&EN, include_str!("../../../../ui/src/i18n/en.json")),
        Lang::Nb => (&NB, include_str!("../../../../ui/src/i18n/nb.json")),
    };
    cell.get_or_init(|| serde_json::from_str(text).unwrap_or(Value::Null))
}

fn number(lang: Lang, v: f64) -> String {
    let s = format!("{v:.1}");
    if lang == Lang::Nb {
        s.replace('.', ",")
    } else {
        s
    }
}

pub fn level(lang: Lang, level: &str) -> &'static str {
    t(lang, &format!("level.{level}"))
}

pub fn outcome(lang: Lang, code: &str) -> &'static str {
    Outcome::parse(code).map(|o| t(lang, &format!("outcome.{}", o.code()))).unwrap_or("")
}

/// What an alert reports, in a line: "Temperature 38.4 °C, feels unwell", "PHQ-9 item 9:
/// Several days", "Diarrhoea 7 of 10, with blood".
pub fn report(lang: Lang, r: &Report) -> String {
    match &r.record {
        Some(data) => entry(lang, data, &r.rule),
        None => tf(lang, "r.rule", &[("rule", &r.rule)]),
    }
}

/// A diary record in a line, as the worklist and the patient page say it (`rule`: the rule an
/// alert about it fired, which picks what to quote).
pub fn entry(lang: Lang, data: &EntryData, rule: &str) -> String {
    match data {
        EntryData::Temperature { celsius, feels_unwell, .. } => {
            let mut s = tf(lang, "r.temperature", &[("t", &number(lang, *celsius))]);
            if *feels_unwell {
                s.push_str(", ");
                s.push_str(t(lang, "r.unwell"));
            }
            s
        }
        EntryData::Symptom { symptom, other_name, severity, flags, .. } => {
            let name = match other_name {
                Some(n) if !n.trim().is_empty() => n.trim().to_owned(),
                _ => app_text(lang, &format!("symptom.{}", symptom.code())).unwrap_or(symptom.display()).to_owned(),
            };
            let mut s = format!("{name} {}", tf(lang, "r.severity", &[("s", &severity.to_string())]));
            for f in flags {
                let word = t(lang, &format!("flag.{f}"));
                if !word.is_empty() {
                    s.push_str(", ");
                    s.push_str(word);
                }
            }
            s
        }
        EntryData::Assessment { instrument, answers, score, .. } => {
            let form = companion_core::instruments::get(instrument).ok();
            let title = form.map(|f| f.questionnaire.title.clone()).unwrap_or_else(|| instrument.clone());
            // PHQ-9 item 9: the answer, as the patient read it.
            if rule == "phq9-item9" {
                if let Some(f) = form {
                    let item = f.scored_items.get(8).cloned().unwrap_or_default();
                    let answer = answers.iter().find(|a| a.link_id == item).and_then(|a| match &a.value {
                        AnswerValue::Coding { code, display, .. } => display.clone().or_else(|| {
                            f.questionnaire.find(&item)?.options.iter().find(|o| o.code == *code).and_then(|o| o.display.clone())
                        }),
                        AnswerValue::Integer { value } => Some(value.to_string()),
                        _ => None,
                    });
                    return format!("{title} {}: {}", tf(lang, "r.item", &[("n", "9")]), answer.unwrap_or_default());
                }
            }
            match score.total {
                Some(n) => format!("{title}, {}", tf(lang, "r.total", &[("n", &n.to_string())])),
                None => title,
            }
        }
        EntryData::Checkin { wellbeing, .. } => {
            format!("{} {}", t(lang, "r.wellbeing"), tf(lang, "r.severity", &[("s", &wellbeing.to_string())]))
        }
        EntryData::Question { text, .. } => format!("{}: {text}", t(lang, "r.question")),
    }
}

/// A text of the app's own catalogue (`symptom.pain`, `esas.pain`, `band.mild`).
pub fn app_text(lang: Lang, key: &str) -> Option<&'static str> {
    catalogue(lang).get(key).and_then(Value::as_str)
}

/// Who reported it: "the patient", or "Ola (carer)".
pub fn reporter(lang: Lang, a: &Alert) -> String {
    match a.reporter.role.as_str() {
        "carer" => tf(lang, "carer", &[("name", &a.reporter.name)]),
        _ => t(lang, "patient").to_owned(),
    }
}

/// A span of time in words: "45 min", "2 h 5 min", "3 d 4 h".
pub fn span(lang: Lang, minutes: i64) -> String {
    let m = minutes.abs();
    if m < 60 {
        tf(lang, "minutes", &[("n", &m.to_string())])
    } else if m < 24 * 60 {
        tf(lang, "hours", &[("h", &(m / 60).to_string()), ("m", &(m % 60).to_string())])
    } else {
        tf(lang, "days", &[("d", &(m / (24 * 60)).to_string()), ("h", &((m % (24 * 60)) / 60).to_string())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_has_both_languages_and_reports_read_well() {
        for (k, en, nb) in STRINGS {
            assert!(!en.is_empty() && !nb.is_empty(), "{k}");
        }
        let keys: std::collections::HashSet<&str> = STRINGS.iter().map(|(k, _, _)| *k).collect();
        assert_eq!(keys.len(), STRINGS.len(), "a key is listed twice");
        let r = |data: EntryData| Report { rule: "fever".into(), level: "call_now".into(), problems: vec![], record: Some(data) };
        let fever = r(EntryData::Temperature { celsius: 38.4, note: None, feels_unwell: true });
        assert_eq!(report(Lang::En, &fever), "Temperature 38.4 °C, feels unwell");
        assert_eq!(report(Lang::Nb, &fever), "Temperatur 38,4 °C, føler seg uvel");
        let d = r(EntryData::Symptom {
            symptom: companion_core::symptom::SymptomCode::Diarrhoea,
            other_name: None,
            severity: 7,
            note: None,
            flags: vec!["blood".into()],
        });
        assert_eq!(report(Lang::En, &d), "Diarrhoea 7 of 10, with blood");
        assert_eq!(report(Lang::Nb, &d), "Diaré 7 av 10, med blod");
        assert_eq!(Lang::from_header("nb-NO,nb;q=0.9,en;q=0.8"), Lang::Nb);
        assert_eq!(Lang::from_header("de, en-GB"), Lang::En);
        assert_eq!(span(Lang::En, -65), "1 h 5 min");
    }
}
