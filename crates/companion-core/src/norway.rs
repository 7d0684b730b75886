//! Norway's wall clock: CET, and CEST from the last Sunday of March to the last Sunday of
//! October, changing at 01:00 UTC as the EU does. For what people read and type in Norway's
//! time: a nurse's times at the clinic, and a ward's staffed hours on the patient's device
//! (which are the ward's hours wherever the device's own clock is set). Stored and sent as UTC.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) };
    let mut d = next.expect("a real month") - Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d -= Duration::days(1);
    }
    d
}

/// Norway's offset from UTC at an instant.
pub fn offset(at: DateTime<Utc>) -> Duration {
    let y = at.year();
    let start = Utc.from_utc_datetime(&last_sunday(y, 3).and_hms_opt(1, 0, 0).expect("01:00"));
    let end = Utc.from_utc_datetime(&last_sunday(y, 10).and_hms_opt(1, 0, 0).expect("01:00"));
    if at >= start && at < end {
        Duration::hours(2)
    } else {
        Duration::hours(1)
    }
}

/// An instant as Norway's wall time.
pub fn local(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc() + offset(at)
}

/// A wall time in Norway as an instant (in the hour that happens twice in October, the first).
pub fn from_local(wall: NaiveDateTime) -> DateTime<Utc> {
    let guess = Utc.from_utc_datetime(&(wall - Duration::hours(2)));
    if offset(guess) == Duration::hours(2) {
        guess
    } else {
        Utc.from_utc_datetime(&(wall - Duration::hours(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summer_and_winter_time() {
        let winter = Utc.with_ymd_and_hms(2026, 12, 1, 13, 0, 0).unwrap();
        assert_eq!(local(winter).format("%H:%M").to_string(), "14:00");
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 13, 0, 0).unwrap();
        assert_eq!(local(summer).format("%H:%M").to_string(), "15:00");
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(offset(Utc.with_ymd_and_hms(2026, 3, 29, 0, 59, 0).unwrap()), Duration::hours(1));
        assert_eq!(offset(Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap()), Duration::hours(2));
        assert_eq!(offset(Utc.with_ymd_and_hms(2026, 10, 25, 1, 0, 0).unwrap()), Duration::hours(1));
        let wall = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap().and_hms_opt(9, 30, 0).unwrap();
        assert_eq!(from_local(wall), Utc.with_ymd_and_hms(2026, 12, 10, 8, 30, 0).unwrap());
        let wall = NaiveDate::from_ymd_opt(2026, 6, 10).unwrap().and_hms_opt(9, 30, 0).unwrap();
        assert_eq!(from_local(wall), Utc.with_ymd_and_hms(2026, 6, 10, 7, 30, 0).unwrap());
    }
}
