//! Calendar arithmetic for `date`, `ls -l` and `touch` (Inferno's `daytime` module): the time
//! read from `/dev/time`, broken into UTC fields, and the two text forms Inferno prints.
//!
//! Invariant: everything is UTC. There is no timezone database, so the zone printed is always
//! `UTC`; the arithmetic is the proleptic Gregorian calendar, valid for any 64-bit time.

use kernel::Ctx;

pub const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A moment broken into calendar fields (Inferno's `Tm`), in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tm {
    pub year: i64,
    /// 0 to 11.
    pub month: usize,
    /// 1 to 31.
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 (Sunday) to 6.
    pub weekday: usize,
}

impl Tm {
    /// The fields of `seconds` since the epoch.
    pub fn from_epoch(seconds: i64) -> Tm {
        let days = seconds.div_euclid(86_400);
        let of_day = seconds.rem_euclid(86_400);
        // Days to a civil date, counting eras of 400 years from 0000-03-01 (the algorithm
        // Howard Hinnant published as `civil_from_days`).
        let shifted = days + 719_468;
        let era = shifted.div_euclid(146_097);
        let day_of_era = shifted.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
        let month = if month_index < 10 {
            month_index + 2
        } else {
            month_index - 10
        } as usize;
        let year = year_of_era + era * 400 + i64::from(month < 2);
        Tm {
            year,
            month,
            day,
            hour: (of_day / 3600) as u32,
            minute: (of_day / 60 % 60) as u32,
            second: (of_day % 60) as u32,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as usize,
        }
    }

    /// `Tue Nov 24 08:16:32 UTC 2026` (Inferno's `daytime->text`, with the zone named UTC).
    pub fn text(&self) -> String {
        format!(
            "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
            WEEKDAYS[self.weekday],
            MONTHS[self.month],
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.year
        )
    }
}

/// The time `ls -l` shows for a file (Inferno's `daytime->filet`): hours and minutes for a
/// file changed in the last six months, else the year.
pub fn file_time(now: i64, then: i64) -> String {
    let tm = Tm::from_epoch(then);
    if now - then < 6 * 30 * 24 * 3600 {
        format!(
            "{} {:02} {:02}:{:02}",
            MONTHS[tm.month], tm.day, tm.hour, tm.minute
        )
    } else {
        format!("{} {:02}  {}", MONTHS[tm.month], tm.day, tm.year)
    }
}

/// Microseconds since the epoch, read from `/dev/time` in the caller's namespace.
pub fn read_micros(ctx: &Ctx) -> kernel::Result<i64> {
    let text = ctx.read_file("/dev/time", 64)?;
    String::from_utf8_lossy(&text)
        .trim()
        .parse::<i64>()
        .map_err(|_| kernel::Error::msg("bad time in /dev/time"))
}

/// Seconds since the epoch: `/dev/time` if the namespace has it, else the host's clock.
pub fn now_seconds(ctx: &Ctx) -> i64 {
    read_micros(ctx)
        .map(|micros| micros.div_euclid(1_000_000))
        .unwrap_or_else(|_| i64::from(kernel::time::now_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(Tm::from_epoch(0).text(), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            Tm::from_epoch(1_795_508_192).text(),
            "Tue Nov 24 08:16:32 UTC 2026"
        );
        // A leap day and the day before the epoch.
        assert_eq!(
            Tm::from_epoch(951_782_400).text(),
            "Tue Feb 29 00:00:00 UTC 2000"
        );
        assert_eq!(Tm::from_epoch(-1).text(), "Wed Dec 31 23:59:59 UTC 1969");
    }

    #[test]
    fn file_times_switch_to_the_year_after_six_months() {
        let then = 1_795_508_192;
        assert_eq!(file_time(then + 60, then), "Nov 24 08:16");
        assert_eq!(file_time(then + 200 * 86_400, then), "Nov 24  2026");
    }
}
