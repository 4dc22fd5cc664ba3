//! Request budgets (GCRA, `governor`): sign-in attempts per user name and per client address, and
//! unauthenticated requests per client address. Over budget, the answer is 429 with `Retry-After`.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

/// How many requests, refilled how fast.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Requests allowed at once.
    pub burst: u32,
    /// One more request allowed every this long.
    pub every: Duration,
}

impl Budget {
    fn quota(self) -> Quota {
        let burst = NonZeroU32::new(self.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(self.every.max(Duration::from_millis(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

/// The budgets a server enforces.
#[derive(Debug, Clone, Copy)]
pub struct LimitConfig {
    /// Sign-in attempts per user name.
    pub login_per_user: Budget,
    /// Sign-in attempts per client address.
    pub login_per_client: Budget,
    /// Unauthenticated requests per client address (consumer page, resolver, public ledger data).
    pub public_per_client: Budget,
    /// Consumer scans counted per client and code (a reload is not a new scan).
    pub scan_per_client_code: Budget,
}

impl Default for LimitConfig {
    fn default() -> Self {
        LimitConfig {
            // Five tries, then one every 30 s: a guesser gets ~3,000 a day, a person never notices.
            login_per_user: Budget {
                burst: 5,
                every: Duration::from_secs(30),
            },
            login_per_client: Budget {
                burst: 20,
                every: Duration::from_secs(3),
            },
            // A consumer scanning a pack makes a handful of requests; a scraper makes thousands.
            public_per_client: Budget {
                burst: 120,
                every: Duration::from_millis(250),
            },
            // One counted scan per phone and code every ten minutes.
            scan_per_client_code: Budget {
                burst: 1,
                every: Duration::from_secs(600),
            },
        }
    }
}

/// The limiters of one server.
pub struct Limits {
    login_user: DefaultKeyedRateLimiter<String>,
    login_client: DefaultKeyedRateLimiter<String>,
    public: DefaultKeyedRateLimiter<String>,
    scans: DefaultKeyedRateLimiter<String>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limits")
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(LimitConfig::default())
    }
}

fn admit(l: &DefaultKeyedRateLimiter<String>, key: &str) -> Result<(), Duration> {
    if l.len() > 100_000 {
        l.retain_recent();
    }
    l.check_key(&key.to_string())
        .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
}

impl Limits {
    /// Limiters with these budgets.
    pub fn new(c: LimitConfig) -> Limits {
        Limits {
            login_user: RateLimiter::keyed(c.login_per_user.quota()),
            login_client: RateLimiter::keyed(c.login_per_client.quota()),
            public: RateLimiter::keyed(c.public_per_client.quota()),
            scans: RateLimiter::keyed(c.scan_per_client_code.quota()),
        }
    }

    /// Admits one sign-in attempt for `user` from `client`, or says how long to wait.
    pub fn login(&self, user: &str, client: &str) -> Result<(), Duration> {
        admit(&self.login_client, client)?;
        admit(&self.login_user, &user.to_lowercase())
    }

    /// Admits one unauthenticated request from `client`, or says how long to wait.
    pub fn public(&self, client: &str) -> Result<(), Duration> {
        admit(&self.public, client)
    }

    /// Whether a visit of `client` to the page of `code` counts as a new scan.
    pub fn scan(&self, client: &str, code: &str) -> bool {
        admit(&self.scans, &format!("{client}|{code}")).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_run_out_per_key() {
        let l = Limits::new(LimitConfig {
            login_per_user: Budget {
                burst: 2,
                every: Duration::from_secs(60),
            },
            ..LimitConfig::default()
        });
        assert!(l.login("li", "1.2.3.4").is_ok());
        assert!(l.login("LI", "5.6.7.8").is_ok());
        let wait = l.login("li", "9.9.9.9").expect_err("third try");
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        assert!(l.login("wang", "1.2.3.4").is_ok());
    }
}
