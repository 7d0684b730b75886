//! Throttling of failed attempts: pairing codes per source address and per code prefix, and
//! credential checks per source address. Each failure within the window makes the next answer
//! slower; after a few, the answer is 429 with `Retry-After` until the oldest failure has left
//! the window. Kept in memory (a restart forgets, which costs an attacker a restart of the
//! clinic's server), bounded in size.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a failure counts.
pub const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Failed pairing codes allowed per source address in the window.
pub const PAIR_PER_ADDRESS: usize = 5;
/// Failed pairing codes allowed per code prefix (the first group of four) in the window, from
/// anywhere: guessing one patient's code from many addresses.
pub const PAIR_PER_PREFIX: usize = 10;
/// Failed credential checks (unknown bearer tokens) per source address in the window.
pub const AUTH_PER_ADDRESS: usize = 20;
/// Failed sign-ins to the web app per source address, per name from one address, and per name
/// from anywhere, in the window.
pub const SIGN_IN_PER_ADDRESS: usize = 10;
pub const SIGN_IN_PER_NAME: usize = 5;
pub const SIGN_IN_PER_NAME_ANYWHERE: usize = 50;
/// Keys remembered at most; the stalest are forgotten first.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Pair,
    Auth,
    /// Signing in to the care team's web app, per address and per name.
    SignIn,
}

type Failures = HashMap<(Kind, String), VecDeque<Instant>>;

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<Failures>,
}

/// What to do with an attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Refuse with 429: seconds until an attempt is allowed again.
    Wait(u64),
}

impl Throttle {
    fn limit(kind: Kind, key: &str) -> usize {
        match (kind, key.starts_with("prefix:")) {
            (Kind::Pair, true) => PAIR_PER_PREFIX,
            (Kind::Pair, false) => PAIR_PER_ADDRESS,
            (Kind::Auth, _) => AUTH_PER_ADDRESS,
            (Kind::SignIn, _) if key.starts_with("name:") => SIGN_IN_PER_NAME,
            (Kind::SignIn, _) if key.starts_with("anyname:") => SIGN_IN_PER_NAME_ANYWHERE,
            (Kind::SignIn, _) => SIGN_IN_PER_ADDRESS,
        }
    }

    /// Whether an attempt under these keys may go ahead now.
    pub fn check(&self, kind: Kind, keys: &[String]) -> Verdict {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        Self::check_in(&mut map, kind, keys)
    }

    fn check_in(map: &mut Failures, kind: Kind, keys: &[String]) -> Verdict {
        let now = Instant::now();
        let mut wait = 0;
        for key in keys {
            if let Some(times) = map.get_mut(&(kind, key.clone())) {
                while times.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
                    times.pop_front();
                }
                if times.len() >= Self::limit(kind, key) {
                    let oldest = *times.front().expect("non-empty");
                    wait = wait.max((WINDOW.saturating_sub(now.duration_since(oldest))).as_secs().max(1));
                }
            }
        }
        if wait > 0 {
            Verdict::Wait(wait)
        } else {
            Verdict::Go
        }
    }

    /// Takes a slot for an attempt before it is tried (so a burst of attempts at once cannot
    /// all pass the check): `Wait` when the keys are over their limit, else the attempt counts
    /// as a failure until [`Throttle::succeeded`] takes it back.
    pub fn attempt(&self, kind: Kind, keys: &[String]) -> Verdict {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let verdict = Self::check_in(&mut map, kind, keys);
        if verdict == Verdict::Go {
            Self::push_in(&mut map, kind, keys);
        }
        verdict
    }

    /// An attempt taken by [`Throttle::attempt`] succeeded: it no longer counts.
    pub fn succeeded(&self, kind: Kind, keys: &[String]) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            if let Some(times) = map.get_mut(&(kind, key.clone())) {
                times.pop_back();
            }
        }
    }

    /// How long to hold back the answer to a failure, from how many the keys have in the
    /// window now.
    pub fn delay(&self, kind: Kind, keys: &[String]) -> Duration {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        backoff(keys.iter().filter_map(|k| map.get(&(kind, k.clone())).map(VecDeque::len)).max().unwrap_or(1))
    }

    /// Records a failure under each key; returns how long to hold the answer back: 250 ms,
    /// doubling with each failure in the window, at most 4 s.
    pub fn failed(&self, kind: Kind, keys: &[String]) -> Duration {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        backoff(Self::push_in(&mut map, kind, keys))
    }

    fn push_in(map: &mut Failures, kind: Kind, keys: &[String]) -> usize {
        let now = Instant::now();
        if map.len() >= MAX_KEYS {
            // Forget the keys whose last failure is oldest.
            let mut by_age: Vec<((Kind, String), Instant)> =
                map.iter().map(|(k, v)| (k.clone(), v.back().copied().unwrap_or(now))).collect();
            by_age.sort_by_key(|(_, t)| *t);
            for (k, _) in by_age.into_iter().take(MAX_KEYS / 10) {
                map.remove(&k);
            }
        }
        let mut most = 0;
        for key in keys {
            let times = map.entry((kind, key.clone())).or_default();
            times.push_back(now);
            while times.len() > Self::limit(kind, key) + 1 {
                times.pop_front();
            }
            most = most.max(times.len());
        }
        most
    }
}

/// The hold-back after the `n`-th failure in the window: 250 ms, doubling, at most 4 s.
fn backoff(n: usize) -> Duration {
    Duration::from_millis(250u64 << n.saturating_sub(1).min(4))
}

/// The throttle key of a source address (IPv6 by its /64, which one user usually holds).
pub fn address_key(ip: Option<IpAddr>) -> String {
    // An IPv4 peer on a dual-stack listener arrives as ::ffff:a.b.c.d.
    match ip.map(|i| i.to_canonical()) {
        Some(IpAddr::V4(v4)) => format!("ip:{v4}"),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "ip:unknown".into(),
    }
}

/// The throttle key of a pairing code: its first group, as typed codes are normalised.
pub fn prefix_key(code: &str) -> String {
    let normal = crate::db::normalise_code(code);
    format!("prefix:{}", normal.chars().take(4).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_slow_down_then_refuse_and_other_addresses_go_on() {
        let t = Throttle::default();
        let me = vec![address_key(Some("10.0.0.1".parse().unwrap()))];
        let mut delays = Vec::new();
        for _ in 0..PAIR_PER_ADDRESS {
            assert_eq!(t.check(Kind::Pair, &me), Verdict::Go);
            delays.push(t.failed(Kind::Pair, &me).as_millis());
        }
        assert_eq!(delays, vec![250, 500, 1000, 2000, 4000]);
        assert!(matches!(t.check(Kind::Pair, &me), Verdict::Wait(s) if s > 500 && s <= 600));
        assert_eq!(t.check(Kind::Pair, &[address_key(Some("10.0.0.2".parse().unwrap()))]), Verdict::Go);
        // Credential checks are counted apart.
        assert_eq!(t.check(Kind::Auth, &me), Verdict::Go);
    }

    #[test]
    fn a_code_prefix_is_throttled_from_every_address() {
        let t = Throttle::default();
        for i in 0..PAIR_PER_PREFIX {
            let keys = vec![address_key(Some(format!("10.0.1.{i}").parse().unwrap())), prefix_key("abcd-0000-0000")];
            t.failed(Kind::Pair, &keys);
        }
        assert!(matches!(t.check(Kind::Pair, &[prefix_key("ABCD-1111-2222")]), Verdict::Wait(_)));
        assert_eq!(t.check(Kind::Pair, &[prefix_key("ABCE-1111-2222")]), Verdict::Go);
    }
}
