//! XrML time values.
//!
//! Real data uses `YYYY-MM-DDTHH:MM` (UTC, no seconds, no zone); the SDK allows
//! seconds. We also accept fractions, a trailing `Z` and surrounding white space.
//! Certificate validity reaches year 2258, so chrono's full range is used.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};

/// Parses an XrML time. `None` when it is not a valid time.
/// A Windows FILETIME (100 ns ticks since 1601-01-01, UTC); `None` for 0
/// (never set) and times chrono cannot hold.
pub fn filetime(ticks: u64) -> Option<DateTime<Utc>> {
    const EPOCH_DIFF_SECS: i64 = 11_644_473_600;
    if ticks == 0 {
        return None;
    }
    let secs = (ticks / 10_000_000) as i64 - EPOCH_DIFF_SECS;
    DateTime::from_timestamp(secs, (ticks % 10_000_000) as u32 * 100)
}

pub fn parse_xrml_time(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    let s = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix('z'))
        .unwrap_or(s);
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let mut d = date.splitn(3, '-');
    let year: i32 = digits(d.next()?, 4)?;
    let month: u32 = digits(d.next()?, 2)?;
    let day: u32 = digits(d.next()?, 2)?;
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (time, None),
    };
    let mut t = hms.splitn(3, ':');
    let hour: u32 = digits(t.next()?, 2)?;
    let minute: u32 = digits(t.next()?, 2)?;
    let second: u32 = match t.next() {
        Some(sec) => digits(sec, 2)?,
        None => 0,
    };
    let nanos = match frac {
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u32 = f.parse().ok()?;
            n * 10u32.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    Some(NaiveDateTime::new(date, time).and_utc())
}

fn digits<T: std::str::FromStr>(s: &str, len: usize) -> Option<T> {
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Formats a time as RFC 3339 UTC (`2022-06-24T16:14:00Z`), with a fraction
/// only when there is one.
pub fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// serde helpers: times are always written as RFC 3339 UTC strings.
pub mod serde_rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::rfc3339(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&crate::parse::time::rfc3339(t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            match Option::<String>::deserialize(d)? {
                Some(s) => DateTime::parse_from_rfc3339(&s)
                    .map(|t| Some(t.with_timezone(&Utc)))
                    .map_err(serde::de::Error::custom),
                None => Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Option<String> {
        parse_xrml_time(s).map(|t| rfc3339(&t))
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(
            f("2022-06-24T16:14").as_deref(),
            Some("2022-06-24T16:14:00Z")
        );
        assert_eq!(
            f(" 2022-06-24T16:14:05Z\n").as_deref(),
            Some("2022-06-24T16:14:05Z")
        );
        assert_eq!(
            f("2022-06-24T16:14:05.25Z").as_deref(),
            Some("2022-06-24T16:14:05.250Z")
        );
        assert_eq!(
            f("2258-03-03T21:33").as_deref(),
            Some("2258-03-03T21:33:00Z")
        );
        assert_eq!(
            f("9999-12-31T23:59").as_deref(),
            Some("9999-12-31T23:59:00Z")
        );
    }

    #[test]
    fn rejected_forms() {
        for bad in [
            "",
            "2022-06-24",
            "2022-13-01T00:00",
            "2022-02-30T00:00",
            "22-06-24T16:14",
            "2022-06-24T25:00",
            "2022-06-24T16:14:05.x",
            "x",
        ] {
            assert_eq!(f(bad), None, "{bad:?}");
        }
    }
}
