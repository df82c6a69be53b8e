//! UTC timestamps for backup keys and manifests, without a calendar crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC instant, whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Utc {
    pub unix: u64,
}

impl Utc {
    pub fn now() -> Utc {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Utc { unix }
    }

    /// (year, month, day, hour, minute, second).
    fn parts(self) -> (i64, u32, u32, u64, u64, u64) {
        let days = (self.unix / 86_400) as i64;
        let rem = self.unix % 86_400;
        // Howard Hinnant's days-to-civil.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60)
    }

    /// `2026-12-04`
    pub fn date(self) -> String {
        let (y, m, d, ..) = self.parts();
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// `20261204T120500Z`: sorts as time does.
    pub fn stamp(self) -> String {
        let (y, m, d, h, min, s) = self.parts();
        format!("{y:04}{m:02}{d:02}T{h:02}{min:02}{s:02}Z")
    }

    /// `2026-12-04T12:05:00Z`
    pub fn rfc3339(self) -> String {
        let (y, m, d, h, min, s) = self.parts();
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}Z")
    }
}

/// Whether `s` looks like a [`Utc::date`].
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Whether `s` looks like a [`Utc::stamp`].
pub(crate) fn is_stamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || i == 15 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_the_calendar() {
        // 2026-12-04T12:05:09Z
        let t = Utc {
            unix: 1_796_385_909,
        };
        assert_eq!(t.date(), "2026-12-04");
        assert_eq!(t.stamp(), "20261204T120509Z");
        assert_eq!(t.rfc3339(), "2026-12-04T12:05:09Z");
        // A leap day and the epoch.
        assert_eq!(Utc { unix: 951_782_400 }.date(), "2000-02-29");
        assert_eq!(Utc { unix: 0 }.rfc3339(), "1970-01-01T00:00:00Z");
        assert!(is_date("2026-12-04") && !is_date("2026-12-4x"));
        assert!(is_stamp("20261204T120509Z") && !is_stamp("latest"));
    }
}
