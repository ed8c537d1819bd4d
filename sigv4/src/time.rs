//! Signature V4 time stamps (`20150830T123600Z`) and Unix seconds, without a clock.

use crate::Error;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `YYYYMMDD'T'HHMMSS'Z'` into Unix seconds.
pub fn parse_timestamp(stamp: &str) -> Result<u64, Error> {
    let bytes = stamp.as_bytes();
    let shape_ok = bytes.len() == 16
        && bytes[8] == b'T'
        && bytes[15] == b'Z'
        && bytes[..8]
            .iter()
            .chain(&bytes[9..15])
            .all(u8::is_ascii_digit);
    if !shape_ok {
        return Err(Error::MalformedTimestamp);
    }
    let number = |range: std::ops::Range<usize>| -> u32 {
        stamp[range].parse().expect("checked to be digits")
    };
    let (year, month, day) = (i64::from(number(0..4)), number(4..6), number(6..8));
    let (hour, minute, second) = (number(9..11), number(11..13), number(13..15));
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
        || year < 1970
    {
        return Err(Error::MalformedTimestamp);
    }
    let days = days_from_civil(year, month, day);
    Ok(days as u64 * 86_400 + u64::from(hour * 3600 + minute * 60 + second))
}

/// Formats Unix seconds as `YYYYMMDD'T'HHMMSS'Z'`.
pub fn format_timestamp(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let rest = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_documentation_stamp_is_the_right_second() {
        assert_eq!(parse_timestamp("20150830T123600Z"), Ok(1_440_938_160));
        assert_eq!(format_timestamp(1_440_938_160), "20150830T123600Z");
    }

    #[test]
    fn impossible_stamps_are_refused() {
        for bad in [
            "20150230T123600Z",
            "20151330T123600Z",
            "20150830T243600Z",
            "20150830 123600Z",
            "2015083T1236000Z",
            "",
        ] {
            assert_eq!(
                parse_timestamp(bad),
                Err(Error::MalformedTimestamp),
                "{bad}"
            );
        }
        assert!(parse_timestamp("20240229T000000Z").is_ok());
        assert!(parse_timestamp("20230229T000000Z").is_err());
    }

    proptest! {
        #[test]
        fn format_and_parse_are_inverse(seconds in 0u64..8_000_000_000) {
            prop_assert_eq!(parse_timestamp(&format_timestamp(seconds)), Ok(seconds));
        }
    }
}
