//! How long ksec waits for a key service: 5 seconds to connect, 15 seconds for a whole key
//! operation (retries included), so an unreachable or stuck service fails in seconds, not in
//! the minutes a TCP or HTTP client waits by default. `KSEC_KEY_SERVICE_TIMEOUT` changes the
//! second; a service's own variable (`VAULT_CLIENT_TIMEOUT`) changes it for that service when
//! ksec's is not set.

use std::time::Duration;

use crate::keys::Env;

/// The variable that sets how long one key operation may take.
pub const TIMEOUT_VAR: &str = "KSEC_KEY_SERVICE_TIMEOUT";

/// The time to connect, and the time for a whole operation, with where the latter came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub request: Duration,
    /// The variable that set `request`, or `None` for the default.
    pub source: Option<&'static str>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(15),
            source: None,
        }
    }
}

impl Timeouts {
    /// The timeouts `KSEC_KEY_SERVICE_TIMEOUT` sets, or the defaults; a value that is not a
    /// duration is an error (reported when a service is asked, not before).
    pub fn from_env(env: &dyn Env) -> Result<Timeouts, String> {
        match env.var(TIMEOUT_VAR).filter(|v| !v.trim().is_empty()) {
            None => Ok(Timeouts::default()),
            Some(text) => Timeouts::default().with_request(&text, TIMEOUT_VAR),
        }
    }

    /// These timeouts with the whole operation limited to `text` (from variable `var`).
    pub fn with_request(self, text: &str, var: &'static str) -> Result<Timeouts, String> {
        let request = parse_duration(text)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("{var}={text:?} is not a duration (write e.g. 15, 15s, 500ms or 2m)"))?;
        Ok(Timeouts {
            connect: self.connect.min(request),
            request,
            source: Some(var),
        })
    }

    /// `the 15 s limit (default)`, `the 3 s limit (KSEC_KEY_SERVICE_TIMEOUT)`.
    pub fn describe(&self) -> String {
        let seconds = self.request.as_secs_f64();
        format!(
            "{seconds} s limit ({})",
            self.source
                .map_or_else(|| format!("default; {TIMEOUT_VAR} changes it"), str::to_string)
        )
    }
}

/// A duration as Go's `ParseDurationSecond` reads it, for the units that make sense here: a
/// bare number is seconds; `ms`, `s`, `m` and `h` suffixes; a fraction is allowed (`1.5s`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MapEnv;

    #[test]
    fn the_default_connects_in_5_s_and_gives_an_operation_15_s() {
        let t = Timeouts::from_env(&MapEnv::new()).unwrap();
        assert_eq!(
            (t.connect, t.request),
            (Duration::from_secs(5), Duration::from_secs(15))
        );
        assert!(t.describe().starts_with("15 s limit (default"), "{}", t.describe());
    }

    #[test]
    fn the_variable_sets_the_operation_limit_and_caps_the_connect_limit() {
        let t = Timeouts::from_env(&MapEnv::new().with_var(TIMEOUT_VAR, "2")).unwrap();
        assert_eq!((t.connect, t.request), (Duration::from_secs(2), Duration::from_secs(2)));
        assert_eq!(t.describe(), "2 s limit (KSEC_KEY_SERVICE_TIMEOUT)");
        let t = Timeouts::from_env(&MapEnv::new().with_var(TIMEOUT_VAR, "1m")).unwrap();
        assert_eq!(
            (t.connect, t.request),
            (Duration::from_secs(5), Duration::from_secs(60))
        );
        let err = Timeouts::from_env(&MapEnv::new().with_var(TIMEOUT_VAR, "soon")).unwrap_err();
        assert!(
            err.contains("KSEC_KEY_SERVICE_TIMEOUT=\"soon\" is not a duration"),
            "{err}"
        );
        assert!(Timeouts::from_env(&MapEnv::new().with_var(TIMEOUT_VAR, "0")).is_err());
    }

    #[test]
    fn durations_read_as_go_reads_them() {
        assert_eq!(parse_duration("15"), Some(Duration::from_secs(15)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        for bad in ["", "s", "-1", "1d", "1 s", "x5"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }
}
