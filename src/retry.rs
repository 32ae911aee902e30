//! Retry policy: exponential backoff with full jitter, bounded by attempts and by total time,
//! honouring `Retry-After`. Only failures that [`AuditError::is_retryable`] accepts are retried
//! (network, timeout, 408, 429, 500, 502-504, `Neo.TransientError.*`: the table of
//! `error::retryable_status`); a 401 or a `Neo.ClientError` never is.
//!
//! ```
//! use neo4j_audit::config::RetryConfig;
//! use neo4j_audit::retry::next_delay_ms;
//! use neo4j_audit::AuditError;
//! let policy = RetryConfig { max_attempts: 3, max_elapsed_ms: 10_000, base_delay_ms: 100, max_delay_ms: 1_000 };
//! let busy = AuditError::Http { status: 503, snippet: String::new(), retry_after_ms: None };
//! let d = next_delay_ms(&policy, &busy, 1, 0).expect("a 503 is retried");
//! assert!(d < 200); // attempt 1 waits a random time in [0, 100 * 2^1)
//! assert_eq!(next_delay_ms(&policy, &busy, 3, 0), None); // attempts used up
//! let auth = AuditError::Unauthorized { status: 401, code: None };
//! assert_eq!(next_delay_ms(&policy, &auth, 1, 0), None); // never retried
//! ```

use crate::config::RetryConfig;
use crate::error::AuditError;

/// How long to wait before attempt `attempts + 1`, or `None` to give up. `attempts` is the number
/// made so far (>= 1); `elapsed_ms` the time since the first began.
pub fn next_delay_ms(policy: &RetryConfig, err: &AuditError, attempts: u32, elapsed_ms: u64) -> Option<u64> {
    if !err.is_retryable() || attempts >= policy.max_attempts {
        return None;
    }
    let ceiling = policy.base_delay_ms.saturating_mul(1u64 << attempts.min(40)).min(policy.max_delay_ms).max(1);
    let jitter = random_u64() % ceiling;
    let delay = match err.retry_after_ms() {
        Some(ra) => ra.max(jitter),
        None => jitter,
    };
    // A repeat must start before the time budget ends: one that would start exactly at its end
    // (a zero jitter at `elapsed == max_elapsed_ms`) is over it.
    (elapsed_ms.saturating_add(delay) < policy.max_elapsed_ms).then_some(delay)
}

/// A random number in `[0, n)` (0 when `n` is 0), for jitter.
pub(crate) fn random_below(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        random_u64() % n
    }
}

/// 64 random bits from the platform's RNG ([`crate::random`]).
fn random_u64() -> u64 {
    crate::random::u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryConfig {
        RetryConfig { max_attempts: 5, max_elapsed_ms: 5_000, base_delay_ms: 100, max_delay_ms: 1_000 }
    }

    #[test]
    fn full_jitter_within_exponential_ceiling() {
        let e = AuditError::Network("reset".into());
        for attempt in 1..5 {
            let ceiling = (100u64 << attempt).min(1_000);
            let ds: Vec<u64> = (0..200).map(|_| next_delay_ms(&policy(), &e, attempt, 0).unwrap()).collect();
            assert!(ds.iter().all(|&d| d < ceiling), "attempt {attempt}: {ds:?}");
            // Full jitter: spread over the range, not a constant.
            assert!(ds.iter().min() != ds.iter().max());
        }
    }

    #[test]
    fn bounded_by_attempts_time_and_classification() {
        let e = AuditError::Timeout(std::time::Duration::from_millis(10));
        assert!(next_delay_ms(&policy(), &e, 4, 0).is_some());
        assert_eq!(next_delay_ms(&policy(), &e, 5, 0), None);
        assert_eq!(next_delay_ms(&policy(), &e, 1, 5_000), None);
        let client = AuditError::Neo4j { code: "Neo.ClientError.Statement.SyntaxError".into(), message: String::new() };
        assert_eq!(next_delay_ms(&policy(), &client, 1, 0), None);
        assert_eq!(next_delay_ms(&policy(), &AuditError::InvalidInput("x".into()), 1, 0), None);
    }

    #[test]
    fn no_repeat_once_the_time_budget_is_spent_whatever_the_jitter() {
        // Jitter is drawn from [0, 2) here, so a zero delay comes up about every other draw:
        // at the end of the budget no draw may allow a repeat (a zero once did, rarely, at 5 000).
        let p = RetryConfig { max_attempts: 5, max_elapsed_ms: 5_000, base_delay_ms: 1, max_delay_ms: 1 };
        let e = AuditError::Network("reset".into());
        for _ in 0..200 {
            assert_eq!(next_delay_ms(&p, &e, 1, 5_000), None);
            assert_eq!(next_delay_ms(&p, &e, 1, 4_999).map(|d| d < 1), Some(true));
        }
    }

    #[test]
    fn honours_retry_after_within_total_time() {
        let e = AuditError::Http { status: 429, snippet: String::new(), retry_after_ms: Some(2_000) };
        assert_eq!(next_delay_ms(&policy(), &e, 1, 0), Some(2_000));
        assert_eq!(next_delay_ms(&policy(), &e, 1, 3_500), None);
    }
}
